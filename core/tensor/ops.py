"""Tensor ops with more than one input or a non-elementwise backward: matmul, indexing, concat, stack, where."""

from __future__ import annotations

import numpy as np

from core.tensor._tensor import ShapeError, Tensor, _const, _node, unbroadcast

__all__ = ["matmul", "getitem", "concat", "cat", "stack", "where"]


def _matmul_error(a, b):
    return ShapeError(
        f"matmul: got shapes {tuple(a.shape)} @ {tuple(b.shape)}; expected a's last axis to equal "
        "b's second-to-last (or only) axis, and batch axes that broadcast"
    )


def matmul(a, b) -> Tensor:
    """a @ b with torch.matmul's rules: 1-D operands are a row / a column, batch axes broadcast.

    Backward (for 2-D): ∂ℒ/∂a = G bᵀ, ∂ℒ/∂b = aᵀ G; batch axes b broadcast over are summed.
    """
    a = _const(a)
    b = _const(b)
    x, y = a.data, b.data
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"matmul: got shapes {x.shape} @ {y.shape}; expected at least 1-D operands")
    try:
        out = x @ y
    except ValueError:
        raise _matmul_error(x, y) from None
    if x.ndim == 2 and y.ndim == 2:

        def back(g):
            return (g @ y.T if a.requires_grad else None, x.T @ g if b.requires_grad else None)

        return _node(out, (a, b), back, "matmul")

    def back_general(g):
        if x.ndim == 1 and y.ndim == 1:
            return g * y, g * x
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = g
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if a.requires_grad:
            if x2.ndim == 2 and g2.ndim > 2:  # a broadcast over the batch: sum it in one product
                k = x2.shape[0]
                ga = (g2 @ np.swapaxes(y2, -1, -2)).reshape(-1, k, x2.shape[1]).sum(0)
            else:
                ga = unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape)
            ga = ga.reshape(x.shape)
        if b.requires_grad:
            if y2.ndim == 2 and x2.ndim > 2:  # a shared weight: fold the batch into the rows
                gb = x2.reshape(-1, x2.shape[-1]).T @ g2.reshape(-1, g2.shape[-1])
            else:
                gb = unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape)
            gb = gb.reshape(y.shape)
        return ga, gb

    return _node(out, (a, b), back_general, "matmul")


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    for it in items:
        if isinstance(it, (list, np.ndarray, Tensor)):
            return True
    return False


def _clean_index(index):
    """Tensors -> integer arrays; float index arrays -> ValueError."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for it in items:
        if isinstance(it, Tensor):
            it = it.data
        if isinstance(it, list):
            it = np.asarray(it)
        if isinstance(it, np.ndarray) and it.dtype.kind == "f":
            if not np.all(it == np.round(it)):
                raise ShapeError("getitem: got a non-integer float index array; expected integers")
            it = it.astype(np.int64)
        out.append(it)
    return tuple(out) if isinstance(index, tuple) else out[0]


def getitem(t: Tensor, index) -> Tensor:
    """t[index] for slices, integers, None, Ellipsis, integer and boolean arrays.

    Backward: a zero array of t's shape with the gradient added at the indexed places
    (`np.add.at`, so an index repeated gets the sum of its gradients).
    """
    index = _clean_index(index)
    a = t.data
    try:
        out = a[index]
    except IndexError as err:
        raise ShapeError(f"getitem: got index {index!r} for shape {a.shape}; {err}") from None
    advanced = _is_advanced(index)
    shape = a.shape

    def back(g):
        full = np.zeros(shape)
        if advanced:
            np.add.at(full, index, g)
        else:
            full[index] = g
        return (full,)

    return _node(out, (t,), back, "getitem")


def concat(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; the gradient is split back at the same offsets."""
    ts = [_const(t) for t in tensors]
    if not ts:
        raise ShapeError("concat: got no tensors; expected at least one")
    nd = ts[0].data.ndim
    if nd == 0:
        raise ShapeError("concat: got 0-d tensors; expected at least 1-D")
    if not -nd <= axis < nd:
        raise ShapeError(f"concat: got axis {axis} for {nd}-d tensors; expected in [-{nd}, {nd})")
    ax = axis % nd
    ref = ts[0].data.shape
    for t in ts:
        s = t.data.shape
        if len(s) != nd or s[:ax] + s[ax + 1 :] != ref[:ax] + ref[ax + 1 :]:
            raise ShapeError(
                f"concat: got shapes {[tuple(u.shape) for u in ts]}; expected equal shapes except "
                f"along axis {axis}"
            )
    out = np.concatenate([t.data for t in ts], axis=ax)
    offsets = np.cumsum([t.data.shape[ax] for t in ts])[:-1]

    def back(g):
        return tuple(np.split(g, offsets, axis=ax))

    return _node(out, tuple(ts), back, "concat")


cat = concat


def stack(tensors, axis: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new axis; the gradient is unstacked."""
    ts = [_const(t) for t in tensors]
    if not ts:
        raise ShapeError("stack: got no tensors; expected at least one")
    ref = ts[0].data.shape
    if any(t.data.shape != ref for t in ts):
        raise ShapeError(f"stack: got shapes {[tuple(t.shape) for t in ts]}; expected equal shapes")
    nd = len(ref) + 1
    if not -nd <= axis < nd:
        raise ShapeError(f"stack: got axis {axis} for {nd - 1}-d tensors; expected in [-{nd}, {nd})")
    ax = axis % nd
    out = np.stack([t.data for t in ts], axis=ax)

    def back(g):
        g = np.moveaxis(g, ax, 0)
        return tuple(g[i] for i in range(len(ts)))

    return _node(out, tuple(ts), back, "stack")


def where(cond, a, b) -> Tensor:
    """Elementwise `a` where `cond` is true, else `b` (cond: bool array or Tensor, no gradient)."""
    c = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if c.dtype != np.bool_:
        c = c != 0
    a = _const(a)
    b = _const(b)
    try:
        out = np.where(c, a.data, b.data)
    except ValueError:
        raise ShapeError(
            f"where: got shapes {c.shape}, {a.shape}, {b.shape}; expected shapes that broadcast"
        ) from None
    sa, sb = a.data.shape, b.data.shape

    def back(g):
        ga = unbroadcast(np.where(c, g, 0.0), sa) if a.requires_grad else None
        gb = unbroadcast(np.where(c, 0.0, g), sb) if b.requires_grad else None
        return ga, gb

    return _node(out, (a, b), back, "where")


Tensor.__matmul__ = lambda self, other: matmul(self, other)
Tensor.__rmatmul__ = lambda self, other: matmul(_const(other), self)
Tensor.__getitem__ = getitem
