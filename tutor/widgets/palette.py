"""The colours labs share (plain Python): chart series, bright marks, one colour per class.

Use these names instead of writing the hex literals again, so every lab draws "train" in the
same blue and class 2 in the same green.
"""

from __future__ import annotations

#: Chart series, in the order `LineChart` gives them to series without a colour (readable on
#: dark and light themes).
BLUE, ORANGE, GREEN, RED, PURPLE, YELLOW = SERIES = (
    "#4ea1ff", "#ff9e3d", "#5fd38d", "#ff6b81", "#c792ea", "#e6d46a")

#: Bright marks over dark pictures (paths on a map, points on a scatter, arrows).
BRIGHT_WHITE = "#ffffff"
BRIGHT_RED = "#ff5555"
BRIGHT_ORANGE = "#ffb86c"
BRIGHT_CYAN = "#8be9fd"
BRIGHT_GREEN = "#50fa7b"
BRIGHT_PINK = "#ff79c6"
BRIGHT_YELLOW = "#f1fa8c"
BRIGHT_PURPLE = "#bd93f9"

#: One colour (r, g, b) per class of a data set, for its points and legends: classes 0-6 of
#: every lab (the 2-D data sets of the MLP lab, the digit codes of the autoencoder lab).
CLASS_RGB: tuple[tuple[int, int, int], ...] = (
    (66, 146, 230), (232, 86, 70), (80, 190, 90), (240, 190, 40), (170, 110, 220),
    (40, 200, 200), (240, 130, 200))
