"""One contract for every registered lab: a lab gets these checks by existing in `tutor/labs/`.

- its `params.py` is plain Python and its widget imports only the core packages it declares;
- its own keys do not hide the keys every lab and the lesson screen share;
- its PyTorch view is code that compiles;
- stepping forward k times then back k times, and reset, show exactly the starting screen, and
  replaying the same steps shows the same screen (the lab is deterministic);
- it opens and steps at 60 x 16 and below without an exception;
- it is built on the kit: every lab widget is a `ModelLab` over a `LabModel`, and no module of
  the lab that draws (imports Textual) reaches into its model's history or private names.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.screen import screen_text
from tutor.labs import lab_class, lab_core_packages, lab_names, lab_params
from tutor.labs.base import Lab
from tutor.labs.kit import LabModel, ModelLab

LABS = lab_names()

#: Keys a lab must leave alone: the shared lab keys (the base class binds them) and the keys of
#: the app and the lesson screen, which a lab binding would hide while the lab has the focus.
RESERVED = {
    "space", "n", "b", "r", "plus", "equals_sign", "minus", "y",  # every lab
    "q", "ctrl+q", "f1", "question_mark", "ctrl+t", "ctrl+p",  # the app
    "left_square_bracket", "right_square_bracket", "d", "f", "ctrl+o",  # the lesson screen
}

_IMPORTS = """
import json, sys, importlib
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('core', 'textual', 'numba'))))
"""


def _imported_by(module: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", _IMPORTS, module], capture_output=True,
                         text=True, check=True, timeout=120)
    return set(json.loads(out.stdout))


def test_every_params_module_is_plain_python():
    """Lesson validation imports params.py without Textual, numba or the core."""
    code = (
        "import json, sys, importlib\n"
        f"for lab in {list(LABS)!r}: importlib.import_module(f'tutor.labs.{{lab}}.params')\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('core', 'textual', 'numba'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("lab", LABS)
def test_widget_imports_only_the_core_packages_it_declares(lab):
    """The lesson mounts a lab once its declared packages are warm: it must need no other."""
    import core

    declared = set(lab_core_packages(lab))
    assert declared <= set(core.SUBPACKAGES)
    used = {m.split(".")[1] for m in _imported_by(f"tutor.labs.{lab}.widget")
            if m.startswith("core.") and m.split(".")[1] in core.SUBPACKAGES}
    assert used <= declared, f"{lab} imports core packages {sorted(used - declared)} undeclared"


@pytest.mark.parametrize("lab", LABS)
def test_lab_keys_leave_the_shared_keys_alone(lab):
    cls = lab_class(lab)
    assert issubclass(cls, Lab) and cls.lab_name == lab
    own = set()
    for klass in cls.__mro__:
        if klass is Lab or not issubclass(klass, Lab):
            continue
        for binding in klass.__dict__.get("BINDINGS", []):
            own.update(k.strip() for k in binding.key.split(","))
    clash = own & RESERVED
    assert not clash, f"{lab} binds {sorted(clash)}, which the app, lesson or every lab uses"


@pytest.mark.parametrize("lab", LABS)
def test_every_parameter_has_a_valid_default(lab):
    from tutor.labs import validate_lab

    params = validate_lab(lab, {})
    assert set(params) == set(lab_params(lab))


def _modules_of(lab: str) -> list:
    package = importlib.import_module(f"tutor.labs.{lab}")
    return [importlib.import_module(f"tutor.labs.{lab}.{m.name}")
            for m in pkgutil.iter_modules(package.__path__)]


def _subclasses(cls) -> set:
    return {c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))}


@pytest.mark.parametrize("lab", LABS)
def test_every_lab_widget_is_built_on_the_kit(lab):
    """A lab's widgets (a lab may have several, one per mode) are `ModelLab`s: the step,
    back, reset, advance, PyTorch and settings glue is the kit's, not written again."""
    _modules_of(lab)
    mine = [c for c in _subclasses(Lab) if c.__module__.startswith(f"tutor.labs.{lab}.")]
    assert lab_class(lab) in mine
    assert [c.__name__ for c in mine if not issubclass(c, ModelLab)] == []


def _reaches_into_model(path: Path) -> list[str]:
    """`x.history` or `x.model._name` in a module: a widget reading its model's insides."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if not isinstance(node, ast.Attribute):
            continue
        inner = node.value
        into_model = isinstance(inner, ast.Attribute) and inner.attr == "model"
        if node.attr == "history" or (into_model and node.attr.startswith("_")
                                      and not node.attr.startswith("__")):
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return found


@pytest.mark.parametrize("lab", LABS)
def test_no_lab_widget_reaches_into_its_model(lab):
    """What a widget draws comes from its model's methods and properties, never from its
    history or private names: the model can change how it keeps its states."""
    drawing = [Path(m.__file__) for m in _modules_of(lab)
               if "textual" in Path(m.__file__).read_text("utf-8")]
    assert drawing, f"{lab} has no widget module"
    assert [hit for path in drawing for hit in _reaches_into_model(path)] == []


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def _press(pilot, *keys: str) -> str:
    for key in keys:
        await pilot.press(key)
        await _settle(pilot)
    return screen_text(pilot.app)


K = 3


@pytest.mark.parametrize("lab", LABS)
async def test_steps_back_reset_and_replay_show_the_same_screens(lab_app, lab):
    app = lab_app(lab)
    async with app.run_test(size=(120, 36)) as pilot:
        await _settle(pilot)
        widget = app.query_one(Lab)
        assert isinstance(widget.model, LabModel), f"{lab}'s model does not follow LabModel"
        code = widget.pytorch_code()
        if code is not None:
            compile(code, f"<{lab} pytorch view>", "exec")
        assert screen_text(app).strip(), f"{lab} shows an empty screen"
        # One step there and back first: a question the lab asks at step 0 is then in the
        # state it keeps (re-asked, or revealed once stepped past): the student's progress,
        # which going back need not undo. The lab's own state must come back exactly.
        start = await _press(pilot, "n", "b")
        forward = await _press(pilot, *["n"] * K)
        assert forward != start, f"{lab}: {K} steps changed nothing on screen"
        assert await _press(pilot, *["b"] * K) == start, f"{lab}: back {K} times is not the start"
        await _press(pilot, *["n"] * K)
        assert await _press(pilot, "r") == start, f"{lab}: reset is not the start"
        assert await _press(pilot, *["n"] * K) == forward, f"{lab}: replaying differs"


@pytest.mark.parametrize("lab", LABS)
async def test_opens_and_steps_at_small_sizes(lab_app, lab):
    app = lab_app(lab)
    async with app.run_test(size=(60, 16)) as pilot:
        await _settle(pilot)
        for size in [(60, 16), (30, 10), (12, 4), (120, 36)]:
            await pilot.resize_terminal(*size)
            await _press(pilot, "n", "b", "n")
        assert app.query_one(Lab).is_mounted
        assert screen_text(app).strip()


def _drawn(app, region, strips=None) -> list:
    """The characters and styles of `region` on the screen (or in `strips`), row by row."""
    strips = app.screen._compositor.render_strips() if strips is None else strips
    return [list(strips[y].crop(region.x, region.right)) for y in range(region.y, region.bottom)]


def _check_tab_stop(app, lab, focused, unfocused, where) -> None:
    assert focused is not None and lab in focused.ancestors, where
    assert focused.display and focused.visible, f"{where} is not displayed"
    geometry = app.screen.find_widget(focused)
    shown = geometry.visible_region
    assert shown.area and shown == geometry.region, f"{where} is not wholly in view"
    assert app.screen.region.contains_region(shown), f"{where} is off screen"
    assert _drawn(app, shown) != _drawn(app, shown, unfocused), (
        f"{where} looks the same as with the lab focused: no visible focus")


@pytest.mark.parametrize("lab", LABS)
async def test_every_tab_stop_is_shown_and_drawn_focused(lab_app, lab):
    """Tab from the lab visits only widgets the student can see take the focus: each is
    displayed, wholly inside the visible screen, and drawn otherwise than with the lab focused
    (an Input's cursor, a Button's or a Select's highlight); tab comes back round to the lab.
    The step controls take no focus: their keys are the lab's (r b space n - +)."""
    app = lab_app(lab)
    async with app.run_test(size=(120, 36)) as pilot:
        await _settle(pilot)
        widget = app.query_one(Lab)
        chain = app.screen.focus_chain
        assert chain[0] is widget and app.focused is widget
        unfocused = app.screen._compositor.render_strips()
        for stop, expected in enumerate(chain[1:], 1):
            await pilot.press("tab")
            assert app.focused is expected, f"{lab}: tab stop {stop} is not {expected!r}"
            _check_tab_stop(app, widget, expected, unfocused, f"{lab}: tab stop {stop} {expected!r}")
        chain[-1].focus()
        await pilot.pause()
        await pilot.press("tab")
        assert app.focused is widget, f"{lab}: tab does not come back round to the lab"
