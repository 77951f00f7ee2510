"""The autoencoder lab: the model protocol (step/back/reset identity, exact replay from
checkpoints), its numbers against NumPy references, bad input, the PyTorch code, and the widget
(worker training, predictions, pages, tiny sizes) with Pilot and snapshots."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.generative import principal_angles, principal_subspace
from tests.answers import spy_answers
from tutor.labdemo import LabApp
from tutor.labs import lab_core_packages, validate_lab
from tutor.labs.autoencoder.digits_model import DigitsModel
from tutor.labs.autoencoder.model import AutoencoderModel
from tutor.labs.autoencoder.params import VIEW_PAGES
from tutor.labs.autoencoder.pca_model import make_cloud
from tutor.widgets.predict import PredictInput

SMALL = {"n_per_class": 20, "batches": 3, "batch_size": 16, "hidden": 8}


def _model(**params) -> AutoencoderModel:
    return AutoencoderModel(validate_lab("autoencoder", params))


# --- model: the linear autoencoder against PCA ------------------------------------------------
def test_pca_steps_are_numpy_gradient_descent_and_reach_the_principal_axis():
    m = _model(view="pca")
    pm = m.current
    X = make_cloud("2d", 0)
    Xc = X - X.mean(axis=0)
    enc, dec = pm.state.encoder.copy(), pm.state.decoder.copy()
    for _ in range(3):  # the notes' plain gradient descent on the mean squared error
        R = Xc @ enc.T @ dec.T - Xc
        g_dec = 2 / Xc.size * R.T @ (Xc @ enc.T)
        g_enc = 2 / Xc.size * dec.T @ R.T @ Xc
        enc, dec = enc - 0.1 * g_enc, dec - 0.1 * g_dec
    m.advance(3)
    np.testing.assert_allclose(pm.state.decoder, dec, rtol=1e-10)
    assert pm.state.loss == pytest.approx(np.mean((Xc @ enc.T @ dec.T - Xc) ** 2))
    angles = [pm.state.angles[0]]
    m.advance(60)
    angles.append(pm.state.angles[0])
    assert angles[1] < 0.5 < angles[0]
    basis, lam = principal_subspace(X, 1)
    assert pm.floor == pytest.approx(lam[1] / 2)
    assert pm.state.loss == pytest.approx(pm.floor, rel=1e-3)
    assert math.degrees(principal_angles(pm.state.decoder, basis)[0]) == pytest.approx(
        pm.state.angles[0], abs=1e-9)


def test_pca_3d_plane_and_the_code_size_check():
    m = _model(view="pca", cloud="3d", k=2)
    m.advance(300)
    assert m.current.state.angles.shape == (2,) and m.current.state.angles.max() < 1.0
    assert "needs the 3-D cloud" in m.apply("cloud", "2d")
    assert m.params["cloud"] == "3d" and m.current.state.step == 300


def test_step_back_reset_identity_and_replay_in_the_pca_view():
    m = _model(view="pca")
    start = m.current.state
    m.advance(5)
    after = m.current.state
    for _ in range(5):
        assert m.back()
    assert not m.back()
    assert m.current.state is start
    m.advance(5)
    assert m.current.state is after  # replayed, not recomputed
    m.reset()
    assert m.current.state is start and m.current.history.index == 0


# --- model: the digit networks ------------------------------------------------------------
def test_digit_steps_back_and_replay_give_exactly_the_same_weights():
    m = _model(view="vae", **SMALL)
    dm: DigitsModel = m.current
    start = dm.snapshot.theta.copy()
    seen = {}
    for _ in range(8):
        m.step()
        seen[dm.state.step] = (dm.snapshot.theta.copy(), dm.state.recon)
    for target in (6, 3, 1):  # back past checkpoints: restored and replayed
        while dm.state.step > target:
            assert m.back()
        np.testing.assert_array_equal(dm.snapshot.theta, seen[target][0])
    m.advance(7)  # forward again (replayed states; the network catches up)
    np.testing.assert_array_equal(dm.snapshot.theta, seen[8][0])
    assert dm.state.recon == seen[8][1]
    m.reset()
    np.testing.assert_array_equal(dm.snapshot.theta, start)
    # a new model with the same seed computes the same numbers
    again = _model(view="vae", **SMALL)
    again.advance(8)
    assert again.current.state.recon == seen[8][1]


def test_training_lowers_the_loss_and_the_curves_follow_the_states():
    m = _model(view="ae", **SMALL)
    first = m.current.state.recon
    m.advance(30)
    t, v = m.current.curves()["−log p(x|z)"]
    assert len(t) == 31 and t[-1] == 90 and v[-1] < first


def test_initial_loss_question_is_256_ln2():
    m = _model(view="ae", **SMALL)
    key, prompt, answer, tol, _ = m.current.question()
    assert answer == pytest.approx(256 * math.log(2), rel=0.05)
    assert abs(256 * math.log(2) - answer) <= tol  # the lesson's 177 is accepted


def test_noise_question_is_the_clipped_noise_power():
    m = _model(view="denoise", noise=0.3, **SMALL)
    _, _, answer, tol, _ = m.current.question()
    X = m.current.X_eval
    rng = np.random.default_rng([0, 0])
    ref = np.mean((np.clip(X + 0.3 * rng.standard_normal(X.shape), 0, 1) - X) ** 2)
    assert answer == pytest.approx(ref) and 0.3**2 / 2 < answer < 0.3**2


def test_vae_reparameterization_pieces_and_wider_codes():
    m = _model(view="vae", latent=4, **SMALL)
    dm = m.current
    r = dm.reparam(3, 0)
    np.testing.assert_allclose(r["sigma"], np.exp(r["logvar"] / 2))
    np.testing.assert_allclose(r["z"], r["mu"] + r["sigma"] * r["eps"])
    assert r["z"].shape == (4,) and dm.decode(np.zeros((3, 2))).shape == (3, 256)
    assert dm.grid(2, 3).shape == (6, 256) and dm.prior_samples(5, 1).shape == (5, 256)
    a, b = dm.pair(2)
    assert dm.y_eval[a] == 2 and dm.y_eval[b] == 7


def test_apply_validates_keeps_the_last_good_state_and_restarts_on_change():
    from tutor.labs.kit import LabModel

    m = _model(view="ae", **SMALL)
    m.advance(2)
    assert isinstance(m, LabModel) and m.index == 2 and m.status().startswith("step 2 ")
    assert "? (predict first)" in m.status(hide_loss=True)
    assert m.apply("lr", -1.0).startswith("✗") and m.current.state.step == 2
    assert m.apply("page", "reparam").startswith("✗")  # the VAE's page only
    assert m.apply("nope", 1).startswith("✗")
    assert m.apply("page", "interp") is None and m.current.state.step == 2
    assert m.apply("view", "vae") is None and "restarts" in m.applied_note("view")
    assert m.applied_note("page") == ""  # only the drawing changes
    with pytest.raises(ValueError, match="no page"):
        _model(view="ae", page="reparam")
    assert m.params["page"] == VIEW_PAGES["vae"][0] and m.current.state.step == 0


@pytest.mark.parametrize("view", ["pca", "ae", "denoise", "vae"])
def test_pytorch_code_is_python_with_the_lab_hyperparameters(view):
    m = _model(view=view, lr=0.004, beta=2.5, noise=0.2, latent=3)
    code = m.pytorch_code()
    compile(code, "pytorch", "exec")
    if view == "pca":
        assert "lr=0.1" in code and "mse_loss" in code
    else:
        assert "lr=0.004" in code and "z_dim=3" in code
        expected = {"ae": "0.0, 0.0", "denoise": "0.2, 0.0", "vae": "0.0, 2.5"}[view]
        assert f"noise, beta = {expected}" in code


def test_core_packages_and_params():
    assert set(lab_core_packages("autoencoder")) == {"generative", "data", "nn", "optim"}
    with pytest.raises(ValueError):
        validate_lab("autoencoder", {"view": "gan"})


# --- the widget --------------------------------------------------------------------------------
async def test_pca_view_predict_then_step(lab_app):
    app = lab_app("autoencoder", view="pca")
    answers = []
    async with app.run_test(size=(120, 36)) as pilot:
        lab = app.query_one("#lab")
        spy_answers(lab, answers.append)
        await pilot.pause()
        predict = app.query_one(PredictInput)
        assert predict.state == "asking" and "predict first" in str(
            app.query_one("#ae-info").render())
        floor = lab.model.current.floor
        predict.query_one("Input").focus()
        await pilot.press(*f"{floor:.4f}", "enter")
        await pilot.pause()
        assert answers and answers[0].correct and f"{floor:.4f}" in str(
            app.query_one("#ae-info").render())
        await pilot.press("n", "n", "n")
        assert "step 3" in str(app.query_one("#ae-title").render())
        await pilot.press("b")
        assert "step 2" in str(app.query_one("#ae-title").render())


async def test_a_head_start_stops_when_its_worker_is_cancelled(lab_app):
    """Leaving the lesson (or a new setting) cancels the training worker: it stops within a
    few steps (ADVANCE_CHUNK), not after the whole head start."""
    from contextlib import suppress

    from textual.worker import WorkerCancelled

    from tutor.labs.autoencoder.widget import ADVANCE_CHUNK

    app = lab_app("autoencoder", view="vae", steps=1000, max_steps=1000, **SMALL)
    async with app.run_test(size=(120, 36)) as pilot:
        lab = app.query_one("#lab")
        model = lab.model.current
        lab.workers.cancel_group(lab, "ae-train")
        with suppress(WorkerCancelled):  # waits for the thread to return
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert model.state.step <= 2 * ADVANCE_CHUNK


async def test_digit_views_train_in_a_worker_and_show_every_page(lab_app):
    app = lab_app("autoencoder", view="vae", steps=4, **SMALL)
    answers = []
    async with app.run_test(size=(120, 36)) as pilot:
        lab = app.query_one("#lab")
        spy_answers(lab, answers.append)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "step 4" in str(app.query_one("#ae-title").render())
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "step 5" in str(app.query_one("#ae-title").render())
        await pilot.press("b", "b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.model.current.state.step == 3  # the second b waited for the first
        await pilot.press("n", "n", "n")  # quick presses queue behind the worker's job
        for _ in range(50):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if not lab.busy and not lab.pending:
                break
        assert lab.model.current.state.step == 6 and not lab.busy and not lab.pending
        for page in VIEW_PAGES["vae"][1:]:
            await pilot.press("p")
            await pilot.pause()
            assert lab.model.params["page"] == page
            if page == "reparam":
                await pilot.press("e", "e")
                await pilot.pause()
                predict = app.query_one(PredictInput)
                assert predict.state == "asking"
                z1 = lab.model.current.reparam(lab.item, lab.draw)["z"][0]
                predict.query_one("Input").focus()
                await pilot.press(*f"{z1:.3f}", "enter")
                await pilot.pause()
                assert answers[-1].correct and "z = μ + σ ⊙ ε" in str(
                    app.query_one("#ae-info").render())
                lab.focus()
        before = lab.cursor.copy()
        await pilot.press("right", "up")
        assert lab.cursor[0] > before[0] and lab.cursor[1] > before[1]
        await pilot.press("full_stop")  # β up: training restarts
        await pilot.pause()
        assert lab.model.params["beta"] == 1.25 and lab.model.current.state.step == 0


async def test_tiny_sizes_and_every_view(lab_app):
    app = lab_app("autoencoder", view="pca", **SMALL)
    async with app.run_test(size=(60, 16)) as pilot:
        for _ in range(4):
            await pilot.press("v", "n", "p")
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.resize_terminal(30, 8)
        await pilot.press("v", "n")
        await app.workers.wait_for_complete()
        await pilot.pause()


def test_snapshot_pca(snap_compare):
    app = LabApp("autoencoder", {"view": "pca", "steps": 3})
    assert snap_compare(app, terminal_size=(120, 36))


def test_snapshot_vae_grid(snap_compare):
    async def run_before(pilot):  # the head start trains in a thread worker
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()

    app = LabApp("autoencoder", {"view": "vae", "page": "grid", "steps": 30})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


@pytest.mark.parametrize("page", ["recon", "denoise", "interp", "grid", "samples", "reparam"])
def test_every_page_fits_its_panel(page):
    from tutor.labs.autoencoder.pages import page_pixels

    view = "vae" if page in ("samples", "reparam") else "denoise" if page == "denoise" else "ae"
    dm = _model(view=view, **SMALL).current
    for width, height in ((88, 50), (46, 26), (8, 4)):
        for stage in (0, 4):
            pixels = page_pixels(dm, page, width, height, stage=stage)
            assert pixels.dtype == np.uint8 and pixels.shape[1] == width and pixels.shape[2] == 3
            if width >= 17 and height >= 18:
                assert pixels.shape[0] <= height + 1


async def test_an_answer_typed_faster_than_the_focus_moves_keeps_every_key(lab_app):
    from textual import events

    app = lab_app("autoencoder", view="pca")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for char in "0.18":  # all four keys reach the lab before the field has the focus
            app.post_message(events.Key(char, char))
        await pilot.pause()
        await pilot.pause()
        field = app.query_one(PredictInput).query_one("Input")
        assert field.value == "0.18"
        await pilot.press("escape", "3")  # a new start replaces what was typed
        await pilot.pause()
        assert field.value == "3"


async def test_the_first_loss_stays_hidden_until_the_student_predicts_it(lab_app):
    app = lab_app("autoencoder", view="vae", **SMALL)
    async with app.run_test(size=(120, 36)) as pilot:
        lab = app.query_one("#lab")
        await pilot.pause()
        predict = app.query_one(PredictInput)
        assert predict.state == "asking" and predict.key == "vae-initial-loss"
        recon = lab.model.current.state.recon
        title = str(app.query_one("#ae-title").render())
        assert f"{recon:.1f}" not in title and "predict first" in title
        assert "−ELBO" not in str(app.query_one("#ae-info").render())
        assert not app.query_one("#ae-chart").series  # no point to read the answer from
        predict.query_one("Input").focus()
        await pilot.press(*f"{recon:.1f}", "enter")
        await pilot.pause()
        assert f"{recon:.1f}" in str(app.query_one("#ae-title").render())
        assert app.query_one("#ae-chart").series


async def test_the_pca_legend_is_whole_beside_a_lesson(lab_app):
    from tests.screen import screen_text

    async with lab_app("autoencoder", view="pca", cloud="3d", k=2).run_test(size=(80, 34)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert "3D · green: PCA · orange: decoder · , . turn" in screen_text(pilot.app)


def test_every_page_title_fits_the_picture_beside_a_lesson():
    from rich.cells import cell_len

    from tutor.labs.autoencoder.widget import PAGE_TITLES, SIDE_WIDTH

    # the lab is about 80 columns beside a lesson: the picture column is 80 − SIDE_WIDTH − 2
    assert all(cell_len(t) <= 80 - SIDE_WIDTH - 4 for t in PAGE_TITLES.values()), PAGE_TITLES


async def test_the_recon_title_is_whole_beside_a_lesson(lab_app):
    from tests.screen import screen_text

    async with lab_app("autoencoder", view="vae", steps=1, **SMALL).run_test(size=(80, 34)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "top: inputs x · below: x̂ = decoder(μ(x))" in screen_text(pilot.app)


async def test_the_lab_comes_back_as_the_student_left_it(lab_app):
    """β, steps, the reparam page, its stage and the cursor, changed with keys, come back in a
    fresh lab from JSON: the steps retrained in the worker to the same weights."""
    from tests.relab import remount, round_trip
    from tests.screen import screen_text
    from tutor.widgets.param_input import ParamInput

    app = lab_app("autoencoder", view="vae", steps=2, **SMALL)
    async with app.run_test(size=(120, 36)) as pilot:
        lab = app.query_one("#lab")
        await app.workers.wait_for_complete()
        await pilot.press("full_stop", "n", "n", "n")  # β 1.25 (training restarts), 3 steps
        for _ in range(50):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if not lab.busy and not lab.pending:
                break
        await pilot.press("p", "e", "right", "up")  # the reparam page, σ shown, the cursor
        assert (lab.model.params["page"], lab.stage, lab.model.current.state.step) == ("reparam", 1, 3)
        theta = lab.model.current.net.theta.copy()
        state = round_trip(lab.save_state())
        lab = await remount(pilot)
        lab.restore_state(state)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert lab.save_state() == state and not lab.busy
        np.testing.assert_array_equal(lab.model.current.net.theta, theta)
        text = screen_text(app)
        assert "vae: step 3" in text and "β 1.25" in text and "log σ² = " in text
        assert app.query_one("#ae-set-beta", ParamInput).value == 1.25
        for damaged in ({**state, "step": 601}, {**state, "cursor": [0.0]},
                        {**state, "stage": 5}, {**state, "params": {**state["params"], "page": "pca"}}):
            with pytest.raises((TypeError, ValueError, KeyError)):
                lab.restore_state(damaged)
            assert lab.save_state() == state  # unchanged


def test_a_damaged_or_long_saved_state():
    from tutor.labs.autoencoder import state as S

    model = _model(view="pca")
    model.advance(7)
    good = S.save(model, np.zeros(2), 2, 0, 0, 0, {"pca-floor-2d-1"})
    assert S.parse(good).replay == 7  # the pca view replays every step
    for damaged in ("x", {**good, "step": -1}, {**good, "cursor": [0.0, float("nan")]},
                    {**good, "answered": [1]}, {**good, "pair_n": True},
                    {**good, "params": {**good["params"], "steps": 4}},
                    {**good, "params": {**good["params"], "k": 2}}):  # k = 2 needs the 3-D cloud
        with pytest.raises((TypeError, ValueError, KeyError)):
            S.parse(damaged)
    digits = {**good, "params": {**good["params"], "view": "ae", "page": "recon"}, "step": 500}
    restored = S.parse(digits)
    assert (restored.replay, restored.target) == (S.REPLAY_STEPS, 500) and "of your 500" in restored.note
    assert S.parse(digits, head_start=200).replay == 200
