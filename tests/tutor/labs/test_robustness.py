"""The robustness lab: each view's model against core.robust and NumPy (step/back/reset,
replay), the settings, the networks' training options, the PyTorch code, and the app."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from textual.widgets import Input

from core.robust import certified_radius, logits_of, margins, pgd_path, spectral_norm
from tutor.labs import validate_lab
from tutor.labs.base import Lab
from tutor.labs.robustness import nets
from tutor.labs.robustness.model import RobustnessModel, training_key
from tutor.labs.robustness.params import VIEW_DEFAULTS, VIEWS
from tutor.labs.robustness.regular import early_stopping
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput

@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """These tests multiply many small matrices: on a loaded machine OpenBLAS's threads spin
    against each other (measured 10-15x slower), so they run with one thread, restored after."""
    import ctypes
    import glob
    import os

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs",
                                  "*openblas*"))
    lib = None
    if libs:
        try:
            lib = ctypes.CDLL(libs[0])
            get, put = lib.scipy_openblas_get_num_threads64_, lib.scipy_openblas_set_num_threads64_
        except (OSError, AttributeError):
            lib = None
    if lib is None:
        yield
        return
    before = get()
    put(1)
    yield
    put(before)


#: Small settings so every view trains in a fraction of a second.
SMALL = {
    "plane": {"train_steps": 120, "n_points": 100},
    "digits": {"train_steps": 60, "hidden": 16},
    "lipschitz": {"train_steps": 80, "n_points": 100, "power_iters": 6},
    "regularization": {"train_steps": 100, "hidden": 16, "n_points": 40},
}


def params(view: str, **extra) -> dict:
    return validate_lab("robustness", {"view": view, **VIEW_DEFAULTS[view], **SMALL[view], **extra})


@pytest.fixture(autouse=True)
def _fresh_training_cache():
    """Trained networks are shared by every lab in the process: each test starts without."""
    from tutor.labs.robustness import model as model_module

    model_module._TRAINED.clear()


@pytest.fixture
def small_defaults(monkeypatch):
    """Switching views applies VIEW_DEFAULTS: make them the small settings for speed."""
    for view in VIEWS:
        monkeypatch.setitem(VIEW_DEFAULTS, view, {**VIEW_DEFAULTS[view], **SMALL[view]})


@pytest.fixture(scope="module")
def models():
    return {view: RobustnessModel(params(view)) for view in VIEWS}


@pytest.mark.parametrize("view", VIEWS)
def test_step_back_reset_and_replay_give_the_same_states(models, view):
    m = models[view]
    m.reset()
    start = (m.status(), m.view.lines())
    taken = m.advance(5)
    assert taken >= 1
    after = (m.status(), m.view.lines())
    for _ in range(taken):
        assert m.back()
    assert not m.back()
    assert (m.status(), m.view.lines()) == start
    m.advance(taken)
    assert (m.status(), m.view.lines()) == after
    m.reset()
    assert m.k == 0 and (m.status(), m.view.lines()) == start
    while m.step():
        pass
    assert m.k == m.view.n_states - 1 and not m.step()
    again = RobustnessModel(params(view))  # same seed: the same numbers
    again.advance(m.k)
    assert again.status() == m.status() and again.view.lines() == m.view.lines()
    m.reset()


def test_plane_follows_pgd_until_the_point_crosses(models):
    m = models["plane"]
    v, p = m.view, m.params
    x, y = v.x0[None], np.array([v.label])
    path, losses = pgd_path(v.plane.model, x, y, p["eps"], p["alpha"], p["pgd_steps"], p["norm"])
    ref = np.array([q[0] for q in path])
    np.testing.assert_array_equal(v.points, ref[: v.n_states])
    preds = logits_of(v.plane.model, ref).argmax(axis=1)
    assert preds[0] == v.label
    if v.crossing:
        assert preds[v.crossing] != v.label and np.all(preds[: v.crossing] == v.label)
        assert v.n_states == v.crossing + 1
    else:
        assert np.all(preds == v.label)
    np.testing.assert_allclose(v.losses, losses[: v.n_states, 0])
    assert np.all(np.abs(v.points - v.x0).max(axis=1) <= p["eps"] + 1e-12)
    z = logits_of(v.plane.model, x)
    assert v.radius == pytest.approx(float(margins(z, y)[0]) / (math.sqrt(2) * v.bound))
    assert v.radius == pytest.approx(float(certified_radius(z, y, v.bound)[0]))
    assert v.radius <= v.distance  # the guarantee holds: the boundary is farther away


def test_plane_fgsm_and_l2_balls():
    m = RobustnessModel(params("plane", attack="fgsm"))
    v = m.view
    assert v.n_states == 2 and m.step() and not m.step()
    assert np.abs(v.points[1] - v.x0).max() == pytest.approx(m.params["eps"])
    assert m.apply("norm", "2") is None and m.apply("attack", "pgd") is None
    v = m.view
    assert np.all(np.linalg.norm(v.points - v.x0, axis=1) <= m.params["eps"] * (1 + 1e-12))
    overlay = v.overlay(40, 30)
    assert any(text == "●" for text, _ in overlay.values())
    assert v.pixels(40, 30).shape == (30, 40, 3)


def test_digits_images_stay_in_range_and_in_the_ball(models):
    m = models["digits"]
    v, p = m.view, m.params
    assert np.all((v.images >= 0) & (v.images <= 1))
    assert np.all(np.abs(v.images - v.images[0]).max(axis=1) <= p["eps"] + 1e-12)
    np.testing.assert_allclose(v.probs.sum(axis=1), 1.0)
    curves = v.curve_series()
    assert set(curves) == {"FGSM", "PGD"}
    assert curves["FGSM"][0] == curves["PGD"][0] == pytest.approx(v.clean)
    image, lefts = v.pixels(1)
    assert image.shape == (16, 52, 3) and lefts == [0, 18, 36]
    v.revealed = False
    assert "predict first" in v.lines()[-1]
    v.revealed = True
    assert f"PGD {v.acc_pgd:.0%}" in v.lines()[-1]


def test_adversarial_training_adds_curves_and_only_it_retrains(models):
    m = models["digits"]
    assert not m.needs_training("point", 3) and not m.needs_training("attack", "fgsm")
    assert m.needs_training("adv_train", True)
    key = training_key(m.params)
    assert m.apply("point", 3) is None and training_key(m.params) == key
    assert m.apply("adv_train", True) is None
    assert {"FGSM, adv. trained", "PGD, adv. trained"} <= set(m.view.curve_series())
    assert m.view.model is m.view.data.robust
    assert m.apply("adv_train", False) is None and m.apply("point", 0) is None


def test_lipschitz_power_iteration_reaches_the_svd(models):
    m = models["lipschitz"]
    v = m.view
    m.advance(100)
    for i, W in enumerate(v.weights):
        true = np.linalg.svd(W, compute_uv=False)[0]
        assert v.true[i] == pytest.approx(true)
        assert np.all(v.estimates[i] <= true * (1 + 1e-12))
        assert spectral_norm(W) == pytest.approx(true, rel=1e-9)
    assert v.bound >= v.found > 0
    assert v.bounds_of[True] == pytest.approx(1.0, rel=0.02)  # W / σ(W) in every layer
    m.reset()


def test_spectral_training_keeps_every_layer_at_sigma_one():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), rng.integers(0, 2, 60)
    model = nets.make_mlp([2, 8, 8, 2], 0)
    nets.train(model, X, y, X, y, steps=40, lr=0.02, batch_size=16, seed=0, spectral=True)
    for layer in nets.linears(model):
        assert np.linalg.svd(layer.weight.data, compute_uv=False)[0] == pytest.approx(1, rel=0.05)


def test_weight_decay_shrinks_the_weights_and_training_is_seeded():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 2)), rng.integers(0, 2, 60)
    norms = []
    for wd in (0.0, 0.5):
        model = nets.make_mlp([2, 8, 2], 0)
        nets.train(model, X, y, X, y, steps=60, lr=0.02, batch_size=16, seed=0, weight_decay=wd)
        norms.append(sum(float(np.sum(p.data ** 2)) for p in model.parameters()))
    assert norms[1] < norms[0]
    a, b = nets.make_mlp([2, 8, 2], 3), nets.make_mlp([2, 8, 2], 3)
    for m in (a, b):
        nets.train(m, X, y, X, y, steps=20, lr=0.02, batch_size=16, seed=2, weight_decay=0.1)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_early_stopping_waits_patience_records():
    stop = early_stopping([3, 2, 1, 2, 3, 4], 2)
    assert (stop.best, stop.stop) == (2, 4)
    stop = early_stopping([3, 2, 1], 5)
    assert (stop.best, stop.stop) == (2, 2)


def test_regularization_view_reveals_records_one_by_one(models):
    m = models["regularization"]
    v = m.view
    m.reset()
    assert len(v.series("plain")[0]) == 1
    m.advance(3)
    steps, train, test = v.series("regular")
    assert len(steps) == 4 and steps[-1] == v.runs.regular.steps[3]
    assert v.n_states == len(v.runs.plain.steps) == 101
    m.reset()


def test_bad_settings_keep_the_last_good_state(models, small_defaults):
    m = models["plane"]
    before = (dict(m.params), m.view)
    for name, value in [("eps", -1.0), ("eps", "big"), ("attack", "cw"), ("pgd_steps", 0),
                        ("nonsense", 1)]:
        message = m.apply(name, value)
        assert message and message.startswith("✗")
        assert (m.params, m.view) == before
    assert m.apply("view", "digits") is None
    assert m.params["eps"] == VIEW_DEFAULTS["digits"]["eps"] == 0.1
    assert m.apply("view", "plane") is None and m.params["eps"] == 0.3


def test_the_model_follows_the_lab_protocol(models):
    """What the kit's ModelLab drives: RobustnessModel is a LabModel in every view."""
    from tutor.labs.kit import LabModel

    for m in models.values():
        assert isinstance(m, LabModel) and isinstance(m.status(), str)


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("flags", [{}, {"attack": "fgsm", "norm": "2", "adv_train": True,
                                         "spectral": True}])
def test_pytorch_code_is_python(view, flags):
    from tutor.labs.robustness import code

    p = validate_lab("robustness", {"view": view, **flags})
    text = getattr(code, view)(p)
    ast.parse(text)
    assert "import torch" in text


# --- the app -----------------------------------------------------------------------------
def _lab(app):
    return app.query_one("#lab")


async def _ready(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_the_lab_trains_in_a_worker_then_steps(lab_app):
    app = lab_app("robustness", **SMALL["plane"])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(app)
        await pilot.press("n")  # still training: nothing happens, no error
        await _ready(pilot)
        assert lab.model is not None
        text = str(app.query_one("#rb-text").render())
        assert "ε = 0.3" in text and "certified radius" in text
        await pilot.press("r", "n", "n")  # (the first n may have come after the training)
        assert lab.model.k == min(2, lab.model.view.n_states - 1)
        await pilot.press("b", "r")
        assert lab.model.k == 0
        await pilot.press("a")  # FGSM: no retraining
        assert lab.model.params["attack"] == "fgsm" and not lab.busy
        await pilot.press("y")
        await pilot.pause()
        assert "def fgsm" in lab.pytorch_code()


async def test_prediction_first_then_reveal(lab_app):
    app = lab_app("robustness", **SMALL["plane"])
    answers = []
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(app)
        post = lab.post_message
        lab.post_message = lambda m: (answers.append(m) if isinstance(m, Lab.Answered) else None, post(m))[1]
        await _ready(pilot)
        predict = app.query_one(PredictInput)
        assert predict.state == "asking"
        await pilot.press("i")
        answer = lab.model.view.crossing
        for ch in str(answer):
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        assert predict.state == "right"
        assert answers and answers[-1].correct and answers[-1].lab == "robustness"


async def test_fields_refuse_bad_values_and_views_cycle(lab_app, small_defaults):
    app = lab_app("robustness", **SMALL["plane"])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(app)
        await _ready(pilot)
        field = app.query_one("#rb-plane-eps", ParamInput)
        box = field.query_one(Input)
        box.focus()
        box.value = "-3"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.params["eps"] == 0.3 and field.error
        box.value = "0.2"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.params["eps"] == 0.2
        lab.focus()
        await pilot.press("v")  # digits: trained in a worker
        await _ready(pilot)
        assert lab.model.params["view"] == "digits" and lab.has_class("-digits")
        assert app.query_one("#rb-digits-eps", ParamInput).display
        assert not app.query_one("#rb-plane-eps", ParamInput).display


@pytest.mark.parametrize("size", [(60, 16), (40, 10)])
async def test_tiny_terminals_do_not_crash(lab_app, size):
    app = lab_app("robustness", **SMALL["plane"])
    async with app.run_test(size=size) as pilot:
        await _ready(pilot)
        await pilot.press("n", "b")


async def test_a_view_shows_no_marker_of_the_one_before(lab_app, small_defaults):
    """The digits view marks PGD at ε on the chart it shares with the plane and Lipschitz
    views: those drew their curves under that stale marker (and its x range)."""
    from tests.screen import screen_text
    from tutor.widgets.line_chart import LineChart

    app = lab_app("robustness", view="digits", eps=0.1, alpha=0.02, **SMALL["digits"])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(app)
        await _ready(pilot)
        await pilot.press("g")  # to the end: revealed, PGD at ε marked
        await pilot.pause()
        chart = app.query_one("#rb-chart", LineChart)
        assert list(chart.markers) and "PGD at ε" in screen_text(app)
        await pilot.press("v")  # the Lipschitz view, trained in a worker
        await _ready(pilot)
        assert lab.model.params["view"] == "lipschitz"
        assert not list(chart.markers) and "PGD at ε" not in screen_text(app)


def test_snapshot_plane_mid_attack(snap_compare):
    from tutor.labdemo import LabApp

    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("n", "n")
        await pilot.pause()

    app = LabApp("robustness", {"zoom": True})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


# --- the numbers the lessons quote --------------------------------------------------------
def _lesson(stem: str):
    from pathlib import Path

    from tutor.content import parse_lesson

    path = Path(__file__).parents[3] / "lessons" / f"{stem}.md"
    return parse_lesson(path.read_text("utf-8"), str(path))


def _pct(x: float) -> str:
    return f"{x:.0%}"


def test_lesson_numbers(monkeypatch):
    """Every figure chapter 7's lessons quote, computed from each lesson's own lab block."""
    from tutor.labs.robustness import model as model_module

    cache: dict = {}
    real = model_module.train_for

    def shared(p):  # lessons with the same training share the networks
        key = training_key(p)
        if key not in cache:
            cache[key] = real(p)
        return cache[key]

    monkeypatch.setattr(model_module, "train_for", shared)

    def build(stem, **changes):
        lesson = _lesson(stem)
        m = RobustnessModel(lesson.lab.params)
        for name, value in changes.items():
            assert m.apply(name, value) is None
        return lesson.text, m.view

    text, v = build("ch7_01_adversarial_examples")           # 7.1
    curves = v.curve_series()
    assert (_pct(v.clean), _pct(v.acc_pgd), _pct(curves["PGD"][2])) == ("87%", "1%", "24%")
    assert v.label == 0 and v.crossing == 4 and int(v.probs[4].argmax()) == 2
    assert int(v.probs[-1].argmax()) == 2
    for s in ("87%", "1%", "24%", "after 4 steps", "a 0, is read as a 2"):
        assert s in text
    assert v.question()[1] == 1.0

    text, v = build("ch7_02_fgsm")                             # 7.2
    assert v.crossing == 1 and f"{v.losses[0]:.3f}" == "0.002" and f"{v.losses[1]:.2f}" == "4.56"
    assert "0.002 to 4.56" in text

    text, v = build("ch7_03_pgd_threat_models")               # 7.3
    assert v.crossing == 3 and f"{v.distance:.3f}" == "0.244"
    assert "crosses at step 3" in text and "0.244" in text
    _, v2 = build("ch7_03_pgd_threat_models", norm="2")
    assert v2.crossing == 5 and "takes 5 steps" in text

    text, v = build("ch7_04_adversarial_training")            # 7.4
    assert v.data.robust is not None
    assert (_pct(v.clean), _pct(v.acc_pgd)) == ("84%", "38%")
    assert _pct(v.data.curves["PGD, adv. trained"][8]) == "1%"  # ε = 0.2
    assert _pct(accuracy_of_standard(v)) == "87%"
    for s in ("keeps 38%", "84% of the clean digits instead of 87%", "kept 1%"):
        assert s in text

    text, v = build("ch7_05_lipschitz_bounds")                # 7.5
    sig = [f"{s:.2f}" for s in v.true]
    assert sig == ["3.48", "7.64", "3.98"] and "σ = 3.48, 7.64 and 3.98" in text
    assert f"{v.bound:.1f}" == "105.9" and f"{v.found:.1f}" == "25.4"
    assert f"{v.bound / v.found:.1f}" == "4.2" and v.n_points == 950
    for s in ("105.9", "25.4", "4.2 times", "950 points"):
        assert s in text
    _, plane = build("ch7_02_fgsm")
    assert f"{plane.radius:.3f}" == "0.043" and f"{plane.distance:.3f}" == "0.244"
    assert "0.043" in text and "0.244" in text

    text, v = build("ch7_06_power_iteration_spectral_norm")   # 7.6
    first = [f"{s:.3f}" for s in v.estimates[0][:4]]
    assert first == ["3.157", "3.441", "3.480", "3.484"] and f"{v.true[0]:.3f}" == "3.485"
    assert "3.157, 3.441, 3.480, 3.484" in text and "3.485" in text
    _, sn = build("ch7_06_power_iteration_spectral_norm", spectral=True)
    assert f"{sn.bound:.2f}" == "1.00" and f"{sn.found:.3f}" == "0.997"
    assert (_pct(sn.accuracy[True]), _pct(sn.accuracy[False])) == ("92%", "98%")
    for s in ("1.00", "0.997", "92% test accuracy instead of 98%"):
        assert s in text

    text, v = build("ch7_07_regularization")                  # 7.7
    a, b = v.runs.plain, v.runs.regular
    stop = v.stops["plain"]
    assert (_pct(a.train_acc[-1]), _pct(a.test_acc[-1])) == ("100%", "90%")
    assert f"{min(a.test_loss):.2f}" == "0.27" and a.steps[stop.best] == 70
    assert a.steps[stop.stop] == 170 and f"{a.test_loss[-1]:.2f}" == "0.80"
    assert f"{b.test_loss[-1]:.2f}" == "0.31" and v.runs.n_train == 30
    for s in ("100%", "90%", "(0.27) at step 70", "0.80", "step 170", "0.31", "30 noisy"):
        assert s in text
    assert v.question()[1] == 10.0


def accuracy_of_standard(view) -> float:
    from tutor.labs.robustness.digits import accuracy

    return accuracy(view.data.standard, view.data.Xt, view.data.yt)


def test_trained_networks_are_shared_between_labs():
    a = RobustnessModel(params("plane"))
    b = RobustnessModel(params("plane", attack="fgsm", point=2))
    assert a.view.plane is b.view.plane
    c = RobustnessModel(params("plane", seed=1))
    assert c.view.plane is not a.view.plane


def test_training_stops_when_its_worker_is_cancelled():
    X, y = np.zeros((8, 2)), np.zeros(8, dtype=int)
    calls = []
    nets.stop_when(lambda: calls.append(1) or len(calls) > 3)
    try:
        with pytest.raises(nets.Cancelled):
            nets.train(nets.make_mlp([2, 4, 2], 0), X, y, X, y, steps=100, lr=0.01,
                       batch_size=4, seed=0)
    finally:
        nets.stop_when(None)
    assert len(calls) == 4


def test_snapshot_digits_fooled(snap_compare, small_defaults):
    from tutor.labdemo import LabApp

    async def run_before(pilot):
        await _ready(pilot)
        await pilot.press("g")
        await pilot.pause()
        await pilot.pause()

    app = LabApp("robustness", {"view": "digits", "eps": 0.1, "alpha": 0.02, **SMALL["digits"]})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_zoom_draws_the_neighbourhood_of_the_point(models):
    m = models["plane"]
    assert not m.needs_training("zoom", True)
    assert m.apply("zoom", True) is None
    v = m.view
    lo, hi = v.bounds
    assert np.all(lo < v.x0) and np.all(v.x0 < hi)
    assert np.all(hi - lo < v.plane.bounds[1] - v.plane.bounds[0])
    assert v.pixels(30, 20).shape == (20, 30, 3)
    assert any(text == "●" for text, _ in v.overlay(30, 20).values())
    assert m.apply("zoom", False) is None


async def test_the_lab_comes_back_as_the_student_left_it(lab_app):
    """Keys and a field change the plane view; a fresh lab (still training its own network)
    restores it from JSON: the network trained again, the attack at the saved step."""
    from tests.relab import remount, round_trip
    from tests.screen import screen_text

    app = lab_app("robustness", **SMALL["plane"])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(app)
        await _ready(pilot)
        await pilot.press("l", "full_stop", "z")  # the L2 ball, the next point, zoomed in
        box = app.query_one("#rb-plane-eps", ParamInput).query_one(Input)
        box.focus()
        box.value = "0.45"
        await pilot.press("enter")
        await _ready(pilot)
        await pilot.press("n", "n")
        assert lab.model.params["eps"] == 0.45 and lab.model.k == 2
        state = round_trip(lab.save_state())
        assert state["k"] == 2 and state["params"]["norm"] == "2" and state["params"]["zoom"]
        lab = await remount(pilot)
        lab.restore_state(state)
        assert lab.save_state() == state  # while it trains, the state is the one restored
        await _ready(pilot)
        assert lab.save_state() == state and not lab.busy
        assert app.query_one("#rb-plane-eps", ParamInput).value == 0.45
        assert "ε = 0.45" in str(app.query_one("#rb-text").render())
        assert "step 2: loss" in screen_text(app) and lab.model.k == 2
        for damaged in ({**state, "k": -2}, {"params": state["params"]},
                        {**state, "params": {**state["params"], "norm": "1"}}):
            with pytest.raises((TypeError, ValueError, KeyError)):
                lab.restore_state(damaged)
            assert lab.save_state() == state and not lab.busy  # unchanged


def test_a_damaged_saved_state():
    from tutor.labs.robustness import state as S

    good = S.save(params("plane"), 3)
    assert S.parse(good) == (good["params"], 3)
    for damaged in ([1], {**good, "k": True}, {**good, "k": 10**9}, {**good, "x": 0},
                    {**good, "params": {**good["params"], "eps": "big"}},
                    {**good, "params": {**good["params"], "bogus": 1}}):
        with pytest.raises((TypeError, ValueError, KeyError)):
            S.parse(damaged)
