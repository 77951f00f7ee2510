"""Shape arithmetic of convolutional networks: output sizes, receptive fields, LeNet-5's layers."""

from __future__ import annotations

from dataclasses import dataclass

from core.vision._checks import as_int


def output_size(w: int, k: int, p: int = 0, s: int = 1) -> int:
    """W' = ⌊(W - K + 2P) / S⌋ + 1 (notes 4.2.3, rounded down as PyTorch does).

    Raises ValueError when the kernel does not fit in the padded input.
    """
    w = as_int(w, "w", 1)
    k = as_int(k, "k", 1)
    p = as_int(p, "p", 0)
    s = as_int(s, "s", 1)
    if k > w + 2 * p:
        raise ValueError(f"the kernel ({k}) is larger than the padded input ({w} + 2·{p})")
    return (w - k + 2 * p) // s + 1


def receptive_field(layers: int, k: int) -> int:
    """1 + L(K - 1): the side of the input square one output pixel of L stacked stride-1
    K x K convolutions depends on (notes 4.2.6)."""
    layers = as_int(layers, "layers", 0)
    k = as_int(k, "k", 1)
    return 1 + layers * (k - 1)


def receptive_window(layers: int, k: int, i: int, j: int, padding: int = 0) -> tuple[int, int, int, int]:
    """The input rows and columns [r0, r1) x [c0, c1) output pixel (i, j) of `layers` stacked
    stride-1 K x K convolutions with `padding` each depends on (may extend past the border)."""
    size = receptive_field(layers, k)
    shift = as_int(padding, "padding", 0) * as_int(layers, "layers", 0)
    return i - shift, i - shift + size, j - shift, j - shift + size


@dataclass(frozen=True)
class Layer:
    """One row of the LeNet-5 table: name, kind, output shape and learnable parameter count."""

    name: str
    kind: str
    shape: tuple[int, ...]
    params: int


def lenet5_layers() -> list[Layer]:
    """LeNet-5 (notes 4.4) on a 1 x 32 x 32 input: (Conv, ReLU, Pool)² → Flatten →
    (Linear, ReLU)² → Linear, with each layer's output shape and parameter count."""
    conv1 = 6 * (1 * 5 * 5) + 6
    conv2 = 16 * (6 * 5 * 5) + 16
    return [
        Layer("C1", "conv 5x5, 6 kernels", (6, 28, 28), conv1),
        Layer("S2", "max pool 2x2", (6, 14, 14), 0),
        Layer("C3", "conv 5x5, 16 kernels", (16, 10, 10), conv2),
        Layer("S4", "max pool 2x2", (16, 5, 5), 0),
        Layer("F", "flatten", (400,), 0),
        Layer("F5", "linear 400→120", (120,), 400 * 120 + 120),
        Layer("F6", "linear 120→84", (84,), 120 * 84 + 84),
        Layer("OUT", "linear 84→10", (10,), 84 * 10 + 10),
    ]


def lenet5_shapes() -> list[tuple[int, ...]]:
    """Each LeNet-5 layer's output shape for a 1 x 32 x 32 input: (6, 28, 28), (6, 14, 14), ..."""
    return [layer.shape for layer in lenet5_layers()]
