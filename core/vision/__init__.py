"""Convolution, pooling and normalization (notes chapter 4), with images to try them on.

The public names mirror `torch.nn.functional`: `conv2d` is cross-correlation, `convolve2d`
the notes' flipped-kernel convolution; every forward has a `*_backward`.
"""

from core.vision.batchnorm import BatchNorm, fold_batchnorm
from core.vision.conv import PADDING_MODES, conv2d, conv2d_backward, convolve2d, pad2d
from core.vision.images import ImageError, builtin, load_image
from core.vision.lenet import LeNet5
from core.vision.norm import (
    REDUCED_AXES,
    batch_norm,
    batch_norm_backward,
    instance_norm,
    instance_norm_backward,
    layer_norm,
    layer_norm_backward,
    norm_statistics,
)
from core.vision.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_with_indices,
)
from core.vision.small_cnn import SmallCNN, SmallCNNResult, SmallCNNTrainer, train_small_cnn
from core.vision.shapes import (
    Layer,
    lenet5_layers,
    lenet5_shapes,
    output_size,
    receptive_field,
    receptive_window,
)

__all__ = [
    "PADDING_MODES",
    "REDUCED_AXES",
    "BatchNorm",
    "ImageError",
    "SmallCNN",
    "SmallCNNResult",
    "SmallCNNTrainer",
    "Layer",
    "LeNet5",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "builtin",
    "conv2d",
    "conv2d_backward",
    "convolve2d",
    "fold_batchnorm",
    "instance_norm",
    "instance_norm_backward",
    "layer_norm",
    "layer_norm_backward",
    "lenet5_layers",
    "lenet5_shapes",
    "load_image",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_with_indices",
    "norm_statistics",
    "output_size",
    "pad2d",
    "receptive_field",
    "receptive_window",
    "train_small_cnn",
]
