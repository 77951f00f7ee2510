"""Parameters of the convolution lab (plain Python: lessons are validated without Textual)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels the lab calls (the lesson mounts it once they are warm).
CORE_PACKAGES = ("vision",)

#: The views of the lab, in the order the chapter meets them.
VIEWS = ("filter", "slide", "bank", "stack", "pool", "lenet")
#: Kernel presets (tutor.labs.convolution.kernels builds them at any size).
PRESETS = ("identity", "box_blur", "gaussian", "sobel_x", "sobel_y", "sharpen", "edges", "emboss")
IMAGES = ("scene", "shapes", "checkerboard", "gradient", "radial") + tuple(f"digit{d}" for d in range(10))
PADDING_MODES = ("zeros", "replicate", "reflect", "circular")

PARAMS = {
    "view": Param("str", "filter", "what the lab shows", choices=VIEWS),
    "image": Param("str", "scene", "a built-in image", choices=IMAGES),
    "path": Param("str", "", "the student's own image file (PGM/PPM; PNG/JPEG with Pillow)"),
    "size": Param("int", 48, "side of the image in pixels", min=8, max=128),
    "kernel": Param("str", "sobel_x", "the kernel preset (or custom)", choices=PRESETS + ("custom",)),
    "kernel_size": Param("int", 3, "K, the kernel's side", min=2, max=5),
    "weights": Param("list[list[float]]", [], "a custom K x K kernel, row by row"),
    "bias": Param("float", 0.0, "b, added to every output pixel", min=-100.0, max=100.0),
    "padding": Param("int", 0, "P, pixels added on each side", min=0, max=3),
    "padding_mode": Param("str", "zeros", "how the border is filled", choices=PADDING_MODES),
    "stride": Param("int", 1, "S, the step between two kernel positions", min=1, max=4),
    "relu": Param("bool", False, "apply max(0, ·) to the output"),
    "bank": Param("list[str]", ["sobel_x", "sobel_y", "gaussian", "edges"], "the filter bank", choices=PRESETS),
    "layers": Param("int", 2, "L, stacked convolutions in the stack view", min=1, max=6),
    "pool": Param("str", "max", "pooling function", choices=("max", "avg")),
    "pool_size": Param("int", 2, "pooling window (and stride)", min=2, max=4),
    "shift": Param("int", 1, "pixels the pooling view shifts the input by", min=0, max=3),
    "digit": Param("int", 3, "the digit LeNet-5 reads", min=0, max=9),
    "row": Param("int", 0, "starting output row of the sliding window", min=0, max=127),
    "col": Param("int", 0, "starting output column of the sliding window", min=0, max=127),
}
