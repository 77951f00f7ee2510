"""The Gridworld lab: stepping, Bellman backups and predictions, editing, Q-learning, presets,
tiny sizes, and snapshots of presets mid-iteration."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import Input

from core.rl import Gridworld, value_iteration
from tests.answers import spy_answers
from tests.screen import screen_text
from tutor.labdemo import LabApp
from tutor.labs import validate_lab
from tutor.labs.base import Lab
from tutor.labs.gridworld.code import pytorch_code
from tutor.labs.gridworld.gridview import GridView, fmt
from tutor.labs.gridworld.model import GridModel
from tutor.labs.gridworld.params import PRESETS
from tutor.labs.gridworld.presets import preset
from tutor.widgets.param_input import ParamInput
from tutor.widgets.predict import PredictInput


def _lab(app):
    return app.query_one("#lab")


def _text(widget) -> str:
    return str(widget.render())


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# --- the model without Textual ---------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_converges_to_value_iteration(name):
    spec = preset(name)
    model = GridModel(spec)
    model.advance(5_000)
    assert model.converged and model.finished
    reference = value_iteration(Gridworld(**spec.kwargs()), spec.gamma)
    np.testing.assert_allclose(model.V, reference.V, atol=1e-8)


def test_notes_grid_fills_in_one_cell_per_sweep():
    model = GridModel(preset("notes"))
    r, c = np.divmod(np.arange(25), 5)
    distance = np.minimum(r + c, 8 - r - c)
    for k in range(1, 6):
        assert model.step()
        np.testing.assert_allclose(model.V, -np.minimum(distance, k))
    assert model.converged and not model.step()
    assert "converged" in model.status()


def test_backup_matches_the_next_sweep_with_slip():
    model = GridModel(preset("slippery"))
    model.advance(3)
    cells = [(r, c) for r in range(3) for c in range(4)]
    predicted = {cell: model.backup(cell).next_value for cell in cells}
    model.step()
    for cell in cells:
        assert model.V[model.grid.state(*cell)] == pytest.approx(predicted[cell], abs=1e-12)
    backup = model.backup((2, 0))
    up = backup.terms[0]
    assert sum(o.prob for o in up.outcomes) == pytest.approx(1.0)
    assert {o.cell for o in up.outcomes} == {(1, 0), (2, 0), (2, 1)}
    assert model.backup((1, 1)).kind == "absorbing"


def test_random_policy_mode_reaches_sutton_values():
    model = GridModel(preset("corners"), mode="random_policy")
    model.step()
    assert model.backup((0, 1)).kind == "mean"
    model.advance(2_000)
    assert model.converged
    np.testing.assert_allclose(model.V.reshape(4, 4)[0], [0, -14, -20, -22], atol=1e-6)


def test_gamma_one_without_terminals_reports_non_convergence():
    model = GridModel(preset("notes"))
    model.toggle_terminal((0, 0))
    model.toggle_terminal((4, 4))
    model.advance(5_000)
    assert model.finished and not model.converged
    assert "did not converge" in model.status()
    assert model.k == 1000


def test_the_model_follows_the_lab_protocol():
    """`apply` changes a setting or says why not (the grid kept); reset and back give the start."""
    from tutor.labs.kit import LabModel

    model = GridModel(preset("notes"))
    assert isinstance(model, LabModel)
    V0 = model.V.copy()
    assert model.advance(3) == 3
    assert model.back() and model.back() and model.back() and not model.back()
    np.testing.assert_array_equal(model.V, V0)
    model.advance(2)
    model.reset()
    assert model.k == 0 and not model.back()
    assert model.apply("gamma", 0.9) is None and model.spec.gamma == 0.9
    assert model.apply("rows", 3) is None and model.spec.rows == 3
    spec = model.spec
    assert "gamma must be in [0, 1]" in model.apply("gamma", 1.5)
    assert "between 1 and" in model.apply("cols", 0)
    assert "no setting" in model.apply("colour", 1)
    assert model.spec == spec
    assert model.apply("mode", "q_learning") is None and model.mode == "q_learning"
    assert model.apply("episodes", 0) is None and model.episodes == 0
    assert model.apply("preset", "maze") is None and model.spec == preset("maze")
    assert "import torch" in model.pytorch_code()


def test_a_saved_grid_restores():
    """A state saved before the lab moved onto the kit (the same format) comes back as it was."""
    from types import SimpleNamespace

    from tutor.labs.gridworld.state import restore, save

    saved = {"spec": {"rows": 4, "cols": 4, "terminals": [[0, 0], [3, 3]], "walls": [[1, 1]],
                      "rewards": [[[2, 2], 5.0]], "teleports": [], "step_reward": -1.0,
                      "slip": 0.0, "gamma": 0.9, "start": None, "title": ""},
             "mode": "random_policy", "k": 7, "epsilon": 0.2, "alpha": 0.5, "episodes": 1,
             "selected": [2, 1], "show_q": True}
    lab = SimpleNamespace(model=GridModel(preset("notes")), selected=None, show_q=False)
    restore(lab, saved)
    m = lab.model
    assert (m.mode, m.k, m.spec.gamma, lab.selected, lab.show_q) == ("random_policy", 7, 0.9,
                                                                     (2, 1), True)
    assert (1, 1) in m.grid.walls and m.grid.cell_rewards[2, 2] == 5.0
    assert save(lab) == saved
    with pytest.raises(ValueError):
        restore(lab, {**saved, "mode": "dqn"})
    assert m.mode == "random_policy" and m.k == 7  # a damaged state changes nothing


def test_edits_validate_and_restart():
    model = GridModel(preset("notes"))
    model.advance(3)
    model.toggle_wall((2, 2))
    assert model.k == 0 and (2, 2) in model.grid.walls
    model.toggle_terminal((2, 2))  # a wall becomes a terminal
    assert (2, 2) in model.grid.terminals and (2, 2) not in model.grid.walls
    model.set_cell_reward((1, 1), 5.0)
    assert model.grid.cell_rewards[1, 1] == 5.0
    model.set_cell_reward((1, 1), None)
    assert model.grid.cell_rewards[1, 1] == -1.0
    spec = model.spec
    with pytest.raises(ValueError):
        model.set_slip(1.5)
    with pytest.raises(ValueError):
        model.set_gamma(-0.5)
    with pytest.raises(ValueError):
        model.resize(0, 3)
    assert model.spec == spec  # bad edits leave the grid as it was
    model.resize(3, 7)
    assert model.grid.n_states == 21 and (2, 2) in model.grid.terminals
    assert (4, 4) not in model.spec.terminals


def test_q_learning_history_replays_exactly():
    model = GridModel(preset("corners"), mode="q_learning", episodes=5, seed=4)
    model.advance(4)
    Q4 = model.Q.copy()
    returns = model.episode_returns.copy()
    assert len(returns) == 20
    model.back()
    model.back()
    assert len(model.episode_returns) == 10
    model.advance(2)
    np.testing.assert_array_equal(model.Q, Q4)
    np.testing.assert_array_equal(model.episode_returns, returns)
    # changing epsilon live keeps Q but drops the replayable future
    model.back()
    model.set_learning(epsilon=0.0)
    model.step()
    assert model.history.index == 4 and model.epsilon == 0.0


def test_q_learning_approaches_q_star():
    model = GridModel(preset("corners"), mode="q_learning", episodes=50, epsilon=0.3,
                      alpha=0.5, seed=1)
    first = None
    for _ in range(40):
        model.step()
        first = first if first is not None else model.q_error()
    assert model.q_error() < 0.05 < first


def test_single_moves_log_the_update():
    model = GridModel(preset("notes"), mode="q_learning", episodes=0, alpha=0.5)
    model.step()
    s, a, r, s2, q_old, target, q_new = model.log[-1]
    assert not model.grid.absorbing[s] and r == -1.0
    assert abs(np.subtract(model.grid.cell(s), model.grid.cell(s2))).sum() <= 1
    assert q_new == pytest.approx(q_old + 0.5 * (target - q_old))
    assert model.agent in (s2, None)


def test_cells_that_cannot_reach_a_terminal_are_reported_before_sweeping():
    """Lesson 8.5: removing the notes' terminals makes value iteration run forever; the lab says
    so at once instead of after its 1000-sweep limit."""
    from dataclasses import replace

    model = GridModel(preset("notes"))
    assert not model.diverges() and not model.stuck_cells().any()
    model.toggle_terminal((0, 0))
    assert not model.diverges()  # the other corner is still reachable from every cell
    model.toggle_terminal((4, 4))
    assert model.diverges() and model.stuck_cells().sum() == 25
    # a walled-in pocket with γ = 1 diverges; with γ < 1 or zero rewards it converges
    walled = replace(preset("notes"), walls=frozenset({(1, 0), (0, 1), (1, 1)}),
                     terminals=frozenset({(4, 4)}))
    model = GridModel(walled)
    assert model.diverges() and model.stuck_cells().sum() == 1  # the corner (0, 0)
    assert not GridModel(replace(walled, gamma=0.9)).diverges()
    assert not GridModel(replace(walled, step_reward=0.0)).diverges()
    assert not GridModel(preset("teleport")).diverges()  # no terminal, but γ = 0.9
    assert not GridModel(walled, mode="q_learning").diverges()


def test_policy_match_counts_cells_whose_greedy_move_is_optimal():
    model = GridModel(preset("corners"), mode="q_learning", episodes=50, epsilon=0.3,
                      alpha=0.5, seed=1)
    # Q = 0: every move ties, which is optimal only where all four moves are (2 cells)
    assert model.policy_match() == (2, 14)
    model.advance(40)
    good, total = model.policy_match()
    assert total == 14 and good == 14


def test_loop_panel_lines_fit_the_side_panel():
    """The side panel is 32 characters wide: no line of the Q-learning text may wrap."""
    from tutor.labs.gridworld.text import loop_text

    for name, episodes in (("notes", 0), ("cliff", 0), ("cliff", 10), ("maze", 0)):
        model = GridModel(preset(name), mode="q_learning", episodes=episodes, seed=3)
        model.advance(25)
        text = loop_text(model)
        assert "T = " in text or episodes, text
        assert max(len(line) for line in text.split("\n")) <= 32, text


def test_backup_sums_are_wrapped_by_the_lab_not_by_textual():
    """With slip each move's sum has three products; they are laid out on lines of at most 32
    characters, continuation lines aligned under the opening bracket."""
    from dataclasses import replace

    from tutor.labs.gridworld.text import backup_text

    for spec, cell in ((replace(preset("open").resized(20, 20), slip=0.1, gamma=0.99), (3, 3)),
                       (preset("slippery"), (2, 0)), (preset("notes"), (2, 2))):
        model = GridModel(spec)
        model.advance(30)
        for revealed in (False, True):
            text = backup_text(model, model.backup(cell), revealed)
            sums = [line for line in text.split("\n")[3:] if not line.startswith("Converged")]
            assert max(len(line) for line in sums) <= 32, text
    model = GridModel(replace(preset("notes"), slip=0.2))
    model.advance(1)
    lines = backup_text(model, model.backup((2, 2)), True).split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("↑"))
    assert lines[first + 1].index("+") == lines[first].index("(") - 1


def test_short_status_fits_beside_the_playback_buttons():
    model = GridModel(preset("teleport"))
    model.advance(60)
    assert model.status().startswith("sweep 60, Δ")
    assert model.status(short=True) == "sweep 60"
    model.advance(1000)
    assert model.status(short=True) == f"sweep {model.k} ✓"
    q = GridModel(preset("cliff"), mode="q_learning", episodes=10)
    q.advance(3)
    assert q.status(short=True) == "30 episodes"


def test_format_fits_widths():
    for value in (-14.0, 24.4189, -100.0, 0.852, 1e6, -0.0, 123456.0):
        for width in (3, 4, 5, 7):
            assert len(fmt(value, width)) <= width
    assert fmt(-14.0, 5) == "-14" and fmt(-0.0, 5) == "0"


def test_pytorch_code_is_valid_python_and_matches_the_grid():
    import ast

    for name in PRESETS:
        code = pytorch_code(preset(name), "value_iteration")
        ast.parse(code)
        assert "gamma" in code and "P @ V" in code
    assert "(4, 1)" in pytorch_code(preset("teleport"), "value_iteration")


def test_pytorch_code_runs_with_a_numpy_stand_in():
    """The copied code computes value iteration's values (run with a tiny torch shim)."""
    import types

    class T(np.ndarray):
        def abs(self):
            return np.abs(self).view(T)

        def item(self):
            return float(self)

        def tolist(self):
            return np.asarray(self).tolist()

        def max(self, dim=None, **kw):
            if dim is None:
                return np.asarray(self).max().view(T) if self.ndim else float(self)
            return types.SimpleNamespace(values=np.asarray(self).max(axis=dim).view(T))

        def argmax(self, dim=None):
            return np.asarray(self).argmax(axis=dim).view(T)

    torch = types.ModuleType("torch")
    torch.float64 = np.float64
    torch.zeros = lambda *shape, dtype=None: np.zeros(shape).view(T)
    spec = preset("slippery")
    namespace = {"print": lambda *a, **k: None}
    import sys

    sys.modules["torch"] = torch
    try:
        exec(pytorch_code(spec, "value_iteration"), namespace)
    finally:
        del sys.modules["torch"]
    expected = value_iteration(Gridworld(**spec.kwargs()), spec.gamma).V
    np.testing.assert_allclose(np.asarray(namespace["V"]), expected, atol=1e-8)


def test_params_validate():
    full = validate_lab("gridworld", {"preset": "maze", "gamma": 0.9, "select": [1, 2]})
    assert full["mode"] == "value_iteration" and full["rows"] == 0 and full["slip"] == -1
    with pytest.raises(ValueError):
        validate_lab("gridworld", {"preset": "nope"})
    with pytest.raises(ValueError):
        validate_lab("gridworld", {"rows": 99})


def test_core_packages_are_exactly_the_ones_the_lab_imports():
    """The lesson mounts the lab once its packages are warm: the widget imports no others
    (core.rl's DQN brings core.nn's network and core.optim's update)."""
    import subprocess
    import sys

    from tutor.labs import lab_core_packages

    assert lab_core_packages("gridworld") == ("rl", "nn", "optim")
    code = ("import sys, tutor.labs.gridworld.widget; print(sorted({m.split('.')[1] for m in "
            "sys.modules if m.startswith('core.') and not m.startswith('core._')}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['nn', 'optim', 'rl']"


# --- Pilot ---------------------------------------------------------------------------------


async def test_stepping_back_and_reset(lab_app):
    async with lab_app("gridworld").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n", "n")
        assert lab.model.k == 3
        V3 = lab.model.V.copy()
        await pilot.press("b")
        assert lab.model.k == 2
        await pilot.press("n")
        np.testing.assert_array_equal(lab.model.V, V3)
        await pilot.press("r")
        assert lab.model.k == 0 and not lab.model.V.any()
        lab._tick()
        lab._tick()
        assert lab.model.k == 2
        await pilot.pause()  # the two steps are drawn in one redraw after the next refresh
        assert "sweep 2, Δ 1" in lab.query_one("#gw-controls").status


async def test_select_predict_and_reveal(lab_app):
    answers = []
    async with lab_app("gridworld", select=[2, 2], sweeps=2).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        spy_answers(lab, lambda m: answers.append((m.key, m.correct)))
        await pilot.pause()
        panel = _text(lab.query_one("#gw-backup"))
        assert "Backup of (2,2), sweep 2 → 3" in panel and "= ?" in panel
        assert "-1 + 1·(-2)" in panel
        predict = lab.query_one(PredictInput)
        assert predict.state == "asking" and predict.answer == -3.0
        await pilot.press("i")
        await pilot.press("minus", "3", "enter")
        await pilot.pause()
        assert predict.state == "right"
        panel = _text(lab.query_one("#gw-backup"))
        assert "max(-3, -3, -3, -3) = -3" in " ".join(panel.split())  # may wrap before "="
        # moving the selection asks again for the new cell
        await pilot.press("up")
        await pilot.pause()
        assert lab.selected == (1, 2) and predict.state == "asking"
        await pilot.press("n")
        assert lab.model.k == 3
    assert answers == [("bellman-backup", True)]


async def test_editing_with_keys(lab_app):
    async with lab_app("gridworld", select=[1, 1]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "w")
        assert (1, 1) in lab.model.grid.walls and lab.model.k == 0
        await pilot.press("t")
        assert (1, 1) in lab.model.grid.terminals
        # γ through its input: a bad value is refused and the last good one kept
        await pilot.press("g")
        field = lab.query_one("#pi-gamma").query_one(Input)
        assert field.has_focus
        field.value = "1.7"
        await pilot.press("enter")
        assert lab.model.spec.gamma == 1.0
        assert lab.query_one("#pi-gamma", ParamInput).error
        field.value = "0.5"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.spec.gamma == 0.5
        # a cell reward for the selected cell
        await pilot.press("right")
        await pilot.press("c")
        cell = lab.query_one("#pi-cell_reward").query_one(Input)
        cell.value = "7"
        await pilot.press("enter")
        assert lab.model.grid.cell_rewards[1, 2] == 7.0
        # grid size
        await pilot.press("z")
        rows = lab.query_one("#pi-rows").query_one(Input)
        rows.value = "7"
        await pilot.press("enter")
        await pilot.pause()
        assert lab.model.grid.rows == 7 and lab.model.grid.cols == 5
        # presets and modes
        await pilot.press("p")
        assert lab.model.spec.rows == 4 and lab.model.spec.cols == 4  # corners
        await pilot.press("m")
        assert lab.model.mode == "random_policy"
        await pilot.press("v")
        assert lab.show_q


async def test_mouse_selects_and_shift_click_builds_walls(lab_app):
    async with lab_app("gridworld").run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        view = lab.query_one(GridView)
        cw, ch, x0, y0 = view.geometry(*view.size)
        target = (x0 + 3 * cw + 1, y0 + 1 * ch + 1)
        await pilot.click(GridView, offset=target)
        assert lab.selected == (1, 3)
        await pilot.click(GridView, offset=target, shift=True)
        assert (1, 3) in lab.model.grid.walls


async def test_q_learning_mode_runs_and_plots(lab_app):
    app = lab_app("gridworld", preset="cliff", mode="q_learning", episodes=20, seed=2)
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n", "n")
        assert len(lab.model.episode_returns) == 60
        chart = lab.query_one("#gw-chart")
        assert [s.name for s in chart.series] == ["return", "v*(start)"]
        assert "Agent–environment loop" in _text(lab.query_one("#gw-backup"))
        await pilot.press("e")
        field = lab.query_one("#pi-epsilon").query_one(Input)
        field.value = "0.05"
        await pilot.press("enter")
        assert lab.model.epsilon == 0.05 and len(lab.model.episode_returns) == 60
        await pilot.press("n")
        assert len(lab.model.episode_returns) == 80


async def test_status_stays_on_one_line_beside_a_lesson(lab_app):
    """At the width a lesson leaves the lab, the long status wrapped and the playback bar grew a
    line during playback, squeezing the grid; the short one fits, the long one returns wide."""
    app = lab_app("gridworld", preset="teleport", sweeps=60)
    async with app.run_test(size=(80, 30)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        controls = lab.query_one("#gw-controls")
        assert controls.status == "sweep 60" and controls.size.height == 1
        await pilot.resize_terminal(140, 36)
        await pilot.pause()
        assert controls.status.startswith("sweep 60, Δ") and controls.size.height == 1
    app = lab_app("gridworld", preset="cliff", mode="q_learning", episodes=100, sweeps=12)
    async with app.run_test(size=(81, 33)) as pilot:
        lab = _lab(pilot.app)
        lab.fps = 25.3  # the widest speed text StepControls shows
        lab.step_forward()
        await pilot.pause()
        controls = lab.query_one("#gw-controls")
        assert controls.status == "1300 ep." and controls.size.height == 1


async def test_stuck_cells_message_appears_before_any_sweep(lab_app):
    app = lab_app("gridworld", preset="notes", select=[0, 0])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("t")
        assert not lab.query_one("#gw-message").has_class("-shown")
        for _ in range(4):
            await pilot.press("down", "right")
        await pilot.press("t")
        await pilot.pause()
        message = lab.query_one("#gw-message")
        assert message.has_class("-shown") and "25 cells cannot reach" in _text(message)
        assert lab.model.k == 0


async def test_terminals_are_coloured_by_their_reward_and_teleports_named(lab_app):
    from tutor.labs.gridworld.gridview import GOAL_BG, PIT_BG, TERMINAL_BG

    def colours(view):
        return {seg.style.bgcolor.name for y in range(view.size.height)
                for seg in view.render_line(y) if seg.style and seg.style.bgcolor}

    def text(view):
        return "\n".join(view.render_line(y).text for y in range(view.size.height))

    async with lab_app("gridworld", preset="slippery").run_test(size=(120, 36)) as pilot:
        view = _lab(pilot.app).query_one(GridView)
        await pilot.pause()
        assert {PIT_BG, GOAL_BG} <= colours(view) and TERMINAL_BG not in colours(view)
    async with lab_app("gridworld", preset="teleport").run_test(size=(120, 36)) as pilot:
        view = _lab(pilot.app).query_one(GridView)
        await pilot.pause()
        assert "A ⇒+10" in text(view) and "B ⇒+5" in text(view) and "A'" in text(view)
    async with lab_app("gridworld", preset="notes").run_test(size=(120, 36)) as pilot:
        view = _lab(pilot.app).query_one(GridView)
        await pilot.pause()
        assert TERMINAL_BG in colours(view) and PIT_BG not in colours(view)


async def test_escape_leaves_a_field_then_reaches_the_lesson_screen():
    """After a bad value the field kept the focus and lab keys (y, n) were typed into it."""
    from tutor.app import DlTutorApp
    from tutor.screens.catalog import CatalogScreen
    from tutor.screens.lesson import LessonScreen

    app = DlTutorApp(warm=False, resume=False)
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("rl-mdp")
        await pilot.pause()
        lab = app.screen.query_one("#lab")
        lab.focus()
        await pilot.press("z", "0", "enter")  # rows = 0: refused, the field keeps the focus
        assert isinstance(app.focused, Input) and lab.model.spec.rows == 5
        await pilot.press("escape")
        assert app.focused is lab and isinstance(app.screen, LessonScreen)
        await pilot.press("n")
        assert lab.model.k == 1
        await pilot.press("escape")  # one level up: from the lab to the lesson's text
        assert isinstance(app.screen, LessonScreen) and app.focused.id == "lesson-text"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)


async def test_narrow_cells_show_arrows_not_hash_marks(lab_app):
    """A 20 x 20 grid beside a lesson has 2-character cells: values squeezed into one
    character came out as "#" in most cells; the arrow alone (and the colour) now."""
    app = lab_app("gridworld", preset="open", rows=20, cols=20, slip=0.1, sweeps=30)
    async with app.run_test(size=(81, 33)) as pilot:
        view = _lab(pilot.app).query_one(GridView)
        await pilot.pause()
        assert view.geometry(*view.size)[:2] == (2, 1)
        text = "".join(view.render_line(y).text for y in range(view.size.height))
        assert "#" not in text and text.count("↑") > 100


def test_value_levels_bound_the_styles():
    from tutor.labs.gridworld.gridview import LEVELS, levels

    out = levels(np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.inf, -np.inf, np.nan]), 0.0, 1.0)
    assert out.tolist() == [0, 0, 128, 255, 255, 255, 0, LEVELS]
    assert levels(np.array([3.0, np.nan]), 3.0, 3.0).tolist() == [128, LEVELS]


async def test_playback_reveals_the_backup_and_asks_again_when_paused(lab_app):
    app = lab_app("gridworld", preset="open", rows=8, cols=8, slip=0.2, gamma=0.95,
                  select=[4, 4])
    async with app.run_test(size=(81, 33)) as pilot:
        lab = _lab(pilot.app)
        predict = lab.query_one(PredictInput)
        await pilot.pause()
        assert predict.display and predict.state == "asking"
        assert "= ?" in _text(lab.query_one("#gw-backup"))
        lab.playing = True
        lab._timer.pause()  # step by hand, as the timer would
        heights = []
        for _ in range(15):
            lab._tick()
            await pilot.pause()
            heights.append(lab.query_one("#gw-backup").size.height)
            assert not predict.display and "= ?" not in _text(lab.query_one("#gw-backup"))
        assert heights == sorted(heights)  # the panel never shrinks under the student's eyes
        await pilot.press("space")  # pause
        await pilot.pause()
        assert predict.display and predict.state == "asking"
        assert f"V{_sub(lab.model.k + 1)}(4,4)" in str(predict.query_one(".predict--prompt").render())


async def test_a_question_no_longer_asked_is_hidden(lab_app):
    """A terminal cell, an answered one, or no cell after a new preset asks nothing: the
    question hides (it stayed on show, a stale prompt above a disabled field, once a cell had
    been asked), and a cell left unanswered for a terminal one is asked again."""
    async with lab_app("gridworld", select=[0, 1]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        predict = lab.query_one(PredictInput)
        await pilot.pause()
        assert predict.display and predict.state == "asking"
        await pilot.press("left")  # (0, 0) is terminal: nothing to back up
        await pilot.pause()
        assert predict.state == "idle" and not predict.display
        await pilot.press("right")  # back on (0, 1): asked again
        await pilot.pause()
        assert predict.display and predict.state == "asking"
        await pilot.press("i", "minus", "1", "enter")
        await pilot.pause()
        assert predict.state == "right"
        await pilot.press("right", "left")  # (0, 2) asks; back on (0, 1), answered: nothing
        await pilot.pause()
        assert predict.state == "idle" and not predict.display
        assert "= -1" in _text(lab.query_one("#gw-backup"))
        await pilot.press("p")  # the next preset: no cell selected
        await pilot.pause()
        assert lab.selected is None and predict.state == "idle" and not predict.display
        assert "Predict V" not in screen_text(pilot.app)


async def test_a_finished_run_does_not_redraw(lab_app):
    async with lab_app("gridworld", preset="notes", sweeps=10).run_test(size=(81, 33)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        version = lab.query_one(GridView)._version
        assert lab.model.finished and lab.step_forward() is False
        assert lab.query_one(GridView)._version == version


@pytest.mark.parametrize("size", [(20, 8), (40, 12), (60, 20), (80, 30)])
async def test_small_terminals_do_not_crash(lab_app, size):
    async with lab_app("gridworld", preset="maze", select=[0, 0]).run_test(size=size) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "v", "n", "m", "n")
        await pilot.pause()
        assert lab.model.k >= 1


async def test_a_full_size_grid_draws(lab_app):
    async with lab_app("gridworld", preset="open", rows=30, cols=30).run_test(
        size=(120, 36)
    ) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("n", "n")
        await pilot.pause()
        assert lab.model.grid.n_states == 900
        assert lab.query_one(GridView).geometry(*lab.query_one(GridView).size)[0] >= 1


async def test_answered_message_reaches_the_app(lab_app):
    received = []
    app = lab_app("gridworld", select=[0, 1])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        spy_answers(lab, received.append)
        await pilot.press("i", "0", "enter")  # V₁(0,1) is -1, not 0
        await pilot.pause()
    assert len(received) == 1 and isinstance(received[0], Lab.Answered)
    assert received[0].lab == "gridworld" and received[0].correct is False


# --- snapshots -------------------------------------------------------------------------------


def test_snapshot_notes_mid_iteration(snap_compare):
    app = LabApp("gridworld", dict(preset="notes", select=[2, 2], sweeps=2))
    assert snap_compare(app, terminal_size=(120, 36))


def test_snapshot_teleport_with_q_values(snap_compare):
    app = LabApp("gridworld", dict(preset="teleport", show_q=True, sweeps=10, select=[0, 1]))
    assert snap_compare(app, terminal_size=(120, 36))


def test_snapshot_maze_beside_a_lesson(snap_compare):
    app = LabApp("gridworld", dict(preset="maze", sweeps=6))
    assert snap_compare(app, terminal_size=(80, 30))


def test_snapshot_cliff_q_learning_beside_a_lesson(snap_compare):
    """Single moves: the red cliff, the agent, the loop panel with the update written out."""
    app = LabApp("gridworld", dict(preset="cliff", mode="q_learning", episodes=0, sweeps=40))
    assert snap_compare(app, terminal_size=(80, 30))


async def test_lesson_parameters_override_the_preset(lab_app):
    app = lab_app("gridworld", preset="teleport", gamma=0.5, slip=0.1, rows=4, select=[9, 9])
    async with app.run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.pause()
        spec = lab.model.spec
        assert (spec.gamma, spec.slip, spec.rows, spec.cols) == (0.5, 0.1, 4, 5)
        assert ((0, 1), (4, 1), 10.0) not in spec.teleports  # A' fell off the smaller grid
        assert lab.selected is None
        assert "not a cell" in _text(lab.query_one("#gw-message"))
        assert lab.query_one("#pi-gamma", ParamInput).value == 0.5


@pytest.mark.parametrize("preset_name", ["maze", "cliff"])
async def test_no_color_and_ascii_mode_draw(monkeypatch, preset_name):
    monkeypatch.setenv("NO_COLOR", "1")
    app = LabApp("gridworld", {"preset": preset_name, "sweeps": 3, "select": [0, 0]})
    app.ascii_mode = True
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "v")
        await pilot.pause()
        view = pilot.app.query_one(GridView)
        text = "".join(view.render_line(y).text for y in range(view.size.height))
        assert "#" in text or "=" in text
        assert "[" in text  # the selected cell is bracketed without colour


async def test_non_convergence_is_shown_in_the_lab(lab_app):
    async with lab_app("gridworld", select=[0, 0]).run_test(size=(120, 36)) as pilot:
        lab = _lab(pilot.app)
        await pilot.press("t")  # remove both terminals: γ = 1 never settles
        lab.selected = (4, 4)
        await pilot.press("t")
        assert not lab.model.grid.terminals
        lab.model.advance(999)
        assert lab.step_forward() is True  # sweep 1000: the lab gives up
        assert lab.step_forward() is False
        await pilot.pause()
        assert "no convergence after 1000 sweeps" in _text(lab.query_one("#gw-message"))
        await pilot.press("r")
        await pilot.pause()
        text = _text(lab.query_one("#gw-message"))  # back to sweep 0: the warning only
        assert "no convergence after" not in text and "cannot reach a terminal" in text


async def test_converged_backup_compares_with_policy_iteration(lab_app):
    async with lab_app("gridworld", preset="slippery", select=[2, 0]).run_test(
        size=(120, 36)
    ) as pilot:
        lab = _lab(pilot.app)
        lab.model.advance(39)
        assert lab.step_forward() is True  # sweep 40 converges
        # The redraw after the step starts the comparison's worker; its result is drawn by
        # the redraw after it: a few turns of the event loop, however busy the machine.
        for _ in range(20):
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
            panel = _text(lab.query_one("#gw-backup"))
            if "computing" not in panel:
                break
        assert lab.model.converged
        assert "Converged in 40 sweeps" in panel
        assert "policy iteration: 4 improvement(s)" in panel


def test_policy_iteration_beside_value_iteration_stops_when_cancelled():
    """The comparison runs in a worker: a cancelled worker (or a grid changed meanwhile)
    stops it between chunks of sweeps and keeps nothing."""
    model = GridModel(preset("slippery"))
    calls = []
    assert model.compare(lambda: calls.append(1) or True) is None
    assert calls == [1] and model.comparison is None
    line = model.compare()
    assert line.startswith("policy iteration: 4 improvement(s)") and model.comparison == line


async def test_a_lesson_shortens_only_its_own_labs_footer():
    """Regression: shortening the shared keys beside a lesson rewrote the lists the lab class
    shares, so every later gridworld (a harness, a snapshot) lost 'Back' and 'Reset'."""
    from tutor.app import DlTutorApp

    app = DlTutorApp(warm=False, resume=False)
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("rl-mdp")
        await pilot.pause()
    harness = LabApp("gridworld", {})
    async with harness.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        footer = screen_text(harness).splitlines()[-1]
        assert "Play/pause" in footer and "Back" in footer and "Reset" in footer
