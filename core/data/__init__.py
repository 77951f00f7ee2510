"""Small built-in data sets made in code, never downloaded (4.5.4, then chapters 7 and 9)."""

from core.data.digits import DIGIT_STROKES, digits

__all__ = ["DIGIT_STROKES", "digits"]
