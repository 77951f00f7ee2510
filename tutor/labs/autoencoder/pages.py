"""The image panel of the digit views (NumPy only): pages of digit tiles for reconstructions,
denoising, interpolation, the decoded latent grid, prior samples and the reparameterization."""

from __future__ import annotations

import numpy as np

from tutor.labs.autoencoder import pictures as pic
from tutor.labs.autoencoder.digits_model import N_EVAL, DigitsModel


def page_pixels(dm: DigitsModel, page: str, width: int, height: int, pair_n: int = 2,
                item: int = 0, draw: int = 0, stage: int = 0) -> np.ndarray:
    """The image panel of a digit view, `width` x `height` pixels: the tiles of `page`."""
    per_row = max(1, (width + 1) // 17)
    tall = max(1, (height + 1) // 17)
    X = dm.X_eval
    if page == "recon":  # rows of inputs, each above its reconstructions (small if needed)
        small = tall < 2
        if small:
            per_row, tall = max(1, (width + 1) // 9), max(1, (height + 1) // 9)
        pairs = max(1, tall // 2)
        n = per_row * pairs
        idx = np.arange(n) * 7 % N_EVAL
        out = dm.reconstruct(X[idx])
        rows = []
        for r in range(pairs):
            sl = slice(r * per_row, (r + 1) * per_row)
            rows += [[pic.tile(x, small=small) for x in X[idx][sl]],
                     [pic.tile(x, small=small) for x in out[sl]]]
        return pic.page(rows, width=width)
    if page == "denoise":
        groups = max(1, per_row // 3)
        n = groups * tall
        idx = np.arange(n) * 7 % N_EVAL
        noisy = dm.noisy(idx)
        out = dm.reconstruct(noisy)
        rows = []
        for r in range(tall):
            row = []
            for g in range(groups):
                i = r * groups + g
                row += [pic.tile(noisy[i]), pic.tile(out[i]), pic.tile(X[idx[i]])]
            rows.append(row)
        return pic.page(rows, width=width)
    if page == "interp":  # digit a, the decoded path, digit b (small tiles if few fit)
        small = per_row * tall < 8
        per_row = max(1, (width + 1) // 9) if small else per_row
        tall = max(1, (height + 1) // 9) if small else tall
        n = max(4, per_row * tall)
        a, b = dm.pair(pair_n)
        imgs = np.vstack([X[a % N_EVAL][None], dm.interpolation(a, b, n - 2),
                          X[b % N_EVAL][None]])
        tiles = [pic.tile(x, small=small) for x in imgs]
        return pic.page([tiles[r * per_row:(r + 1) * per_row] for r in range(tall)],
                        width=width)
    if page in ("grid", "samples"):
        cols_small, rows_small = max(1, (width + 1) // 9), max(1, (height + 1) // 9)
        cols_small, rows_small = max(2, cols_small), max(2, rows_small)
        if page == "grid":
            imgs = dm.grid(rows_small, cols_small)
        else:
            imgs = dm.prior_samples(cols_small * rows_small, draw)
        tiles = [pic.tile(x, small=True) for x in imgs]
        return pic.page([tiles[r * cols_small:(r + 1) * cols_small]
                         for r in range(rows_small)], width=width)
    # reparam: the digit and, once z is shown, its decoded x̂ (twice the size if it fits)
    r = dm.reparam(item, draw)
    big = width >= 70 and height >= 34
    row = [pic.tile(r["x"], big=big)]
    if stage >= 4:
        row += [None, pic.tile(r["x_hat"], big=big)]
    return pic.page([row], gap=2, width=width)
