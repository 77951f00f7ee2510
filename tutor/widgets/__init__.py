"""Reusable widgets every lab is built from (pixel view, line chart, step controls, inputs)."""

from __future__ import annotations

from importlib import import_module

# Imported lazily so that `tutor.widgets.colormap` and `tutor.widgets.braille` stay free of Textual.
# The `colormap` function is not re-exported: the name belongs to its module here; use
# `from tutor.widgets.colormap import colormap`.
_EXPORTS = {
    "StepControls": "step_controls",
    "ParamInput": "param_input",
    "ChoiceField": "choice",
    "PixelView": "pixel_view",
    "BrailleCanvas": "braille",
    "LineChart": "line_chart",
    "Series": "line_chart",
    "PredictInput": "predict",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
