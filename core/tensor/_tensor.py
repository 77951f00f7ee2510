"""The Tensor: a float64 NumPy array, its gradient, and the tape entry (parents + backward) that made it."""

from __future__ import annotations

import itertools
import operator
import threading

import numpy as np

__all__ = ["Tensor", "tensor", "zeros", "ones", "randn", "no_grad", "enable_grad",
           "is_grad_enabled", "ShapeError"]

_F64 = np.float64
_SEQ = itertools.count()  # creation order: a node's parents always have smaller numbers


class ShapeError(ValueError, IndexError):
    """A shape or index the operation cannot take (a ValueError; an IndexError for indexing)."""


class _GradMode(threading.local):
    enabled = True


_MODE = _GradMode()


def is_grad_enabled() -> bool:
    """False inside `no_grad()` (per thread, like PyTorch)."""
    return _MODE.enabled


class no_grad:
    """Context manager (and decorator): ops inside record nothing, results need no grad."""

    _enable = False

    def __enter__(self):
        self._prev = _MODE.enabled
        _MODE.enabled = self._enable

    def __exit__(self, *exc):
        _MODE.enabled = self._prev
        return False

    def __call__(self, func):
        mode = type(self)

        def wrapper(*args, **kwargs):
            with mode():
                return func(*args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        return wrapper


class enable_grad(no_grad):
    """Re-enable recording inside a `no_grad()` block."""

    _enable = True


def _node(data, parents, backward, op):
    """The result of an op: records (parents, backward) only if a parent requires grad."""
    if type(data) is not np.ndarray:
        data = np.asarray(data, dtype=_F64)
    t = object.__new__(Tensor)
    t.data = data
    t.grad = None
    t._op = op
    t._seq = next(_SEQ)
    t._retain = False
    if _MODE.enabled:
        for p in parents:
            if p.requires_grad:
                t.requires_grad = True
                t._parents = parents
                t._backward = backward
                return t
    t.requires_grad = False
    t._parents = ()
    t._backward = None
    return t


def _const(x) -> "Tensor":
    """Wrap a number or array (no grad) as a Tensor."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"expected a number, array or Tensor, got the bool {x!r}")
    try:
        data = np.asarray(x, dtype=_F64)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, array or Tensor, got {type(x).__name__}") from None
    return _node(data, (), None, "const")


def unbroadcast(g, shape):
    """Sum `g` over the axes broadcasting added or stretched, so it has `shape` again."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    return g.reshape(shape)


def _bshape_error(op, a, b):
    return ShapeError(
        f"{op}: got shapes {tuple(a.shape)} and {tuple(b.shape)}; expected shapes that broadcast "
        "(equal sizes or 1, aligned from the right)"
    )


def _norm_axis(axis, ndim, op):
    """axis (None, int or tuple) -> sorted tuple of non-negative axes; ValueError if out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < max(ndim, 1):
            raise ShapeError(f"{op}: got axis {axis!r}; expected integers in [-{ndim}, {ndim})")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: got repeated axes {axis!r}")
    return tuple(sorted(out))


def _expand(g, shape, axes, keepdims):
    """The gradient of a reduction over `axes`, broadcast back to the input `shape`."""
    out = np.empty(shape)
    if not keepdims and axes and len(axes) < len(shape):
        g = np.expand_dims(g, axes)
    out[...] = g  # one broadcasting copy (np.broadcast_to costs more at these sizes)
    return out


class Tensor:
    """A float64 array that records how it was computed, for reverse-mode differentiation.

    `data` is the writable NumPy array; `grad` the accumulated ∂ℒ/∂self (a NumPy array of the
    same shape, or None) after `backward()`, kept for leaves that require grad (and tensors that
    called `retain_grad()`). Operators broadcast like NumPy; each gradient is summed back to its
    input's shape.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_op", "_seq",
                 "_retain", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        try:
            arr = np.array(data, dtype=_F64)
        except (TypeError, ValueError):
            raise ValueError(
                f"tensor: got {type(data).__name__}; expected numbers or a (nested) sequence of them"
            ) from None
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._backward = None
        self._op = None  # a leaf
        self._seq = next(_SEQ)
        self._retain = False

    # --- basic properties -------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._op is None or self._op == "const"

    @property
    def T(self) -> "Tensor":
        """All axes reversed (the transpose of a matrix)."""
        if self.data.ndim < 2:
            return self
        return self.permute(*range(self.data.ndim - 1, -1, -1))

    @property
    def mT(self) -> "Tensor":
        """The last two axes swapped (a batch of matrices transposed)."""
        return self.transpose(-2, -1)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, precision=4, separator=", ", prefix="tensor(")
        return f"tensor({body}{grad})"

    def item(self) -> float:
        """The single value as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: got shape {self.shape}; expected a tensor with one element")
        return float(self.data.reshape(-1)[0])

    def argmax(self, axis=None) -> np.ndarray:
        """Indices of the largest values (a NumPy integer array: no gradient)."""
        return np.argmax(self.data, axis=axis)

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) gives the data (a copy if a dtype change or copy=True asks for one)."""
        if dtype is None and not copy:
            return self.data
        return np.array(self.data, dtype=dtype, copy=True)

    def numpy(self) -> np.ndarray:
        """The data array itself (shared, like PyTorch's `.numpy()` of a detached tensor)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """The same data (shared), cut from the graph: no grad flows through it."""
        t = object.__new__(Tensor)
        t.data, t.grad, t.requires_grad = self.data, None, False
        t._parents, t._backward, t._op, t._seq, t._retain = (), None, None, next(_SEQ), False
        return t

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise ValueError("requires_grad_: only leaf tensors can change requires_grad")
        self.requires_grad = bool(flag)
        self._op = None
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (grad = None)."""
        self.grad = None

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (for inspection)."""
        self._retain = True

    # --- backward ---------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate ∂self/∂leaf (times `grad`) into `.grad` of every leaf that requires grad.

        Without `grad` the tensor must hold one element (the loss). Iterative: the graph's nodes
        are ordered by creation (parents are older than children), so depth never recurses.
        Each node's backward closure (and the buffers it saved) is released after use unless
        `retain_graph=True`; a second backward through a released graph raises RuntimeError.
        """
        if not self.requires_grad:
            raise ValueError("backward: this tensor does not require grad (no leaf of it does)")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward: got shape {self.shape}; expected one element, or pass grad of that shape"
                )
            g = np.ones(self.data.shape)
        else:
            g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=_F64)
            if g.shape != self.data.shape:
                raise ValueError(f"backward: got grad of shape {g.shape}; expected {self.shape}")
        # every node reachable through tensors that require grad
        nodes = [self]
        seen = {id(self)}
        stack = [self]
        while stack:
            n = stack.pop()
            if n._backward is None and n._op is not None and n._op != "const":
                raise RuntimeError(
                    "backward: trying to backward through the graph a second time (its buffers "
                    "were freed); call backward(retain_graph=True) the first time"
                )
            for p in n._parents:
                if p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    nodes.append(p)
                    stack.append(p)
        nodes.sort(key=_SEQ_KEY, reverse=True)
        grads = {id(self): g}
        for n in nodes:
            g = grads.pop(id(n), None)
            if g is None:
                continue
            fn = n._backward
            if fn is None:  # a leaf: keep a private copy (g may be shared with other nodes)
                if n.grad is None:
                    n.grad = np.array(g, dtype=_F64, order="C")
                else:
                    n.grad += g
                continue
            if n._retain:
                n.grad = np.array(g, dtype=_F64) if n.grad is None else n.grad + g
            pgrads = fn(g)
            for p, pg in zip(n._parents, pgrads):
                if pg is None or not p.requires_grad:
                    continue
                k = id(p)
                prev = grads.get(k)
                grads[k] = pg if prev is None else prev + pg
            if not retain_graph:
                n._backward = None
                n._parents = ()

    # --- arithmetic -------------------------------------------------------------------------
    def __add__(self, other):
        a = self.data
        if isinstance(other, (float, int)) and not isinstance(other, bool):
            return _node(a + other, (self,), _identity_back, "add")
        other = _const(other)
        b = other.data
        try:
            out = a + b
        except ValueError:
            raise _bshape_error("add", a, b) from None
        sa, sb = a.shape, b.shape

        def back(g):
            return unbroadcast(g, sa), unbroadcast(g, sb)

        return _node(out, (self, other), back, "add")

    __radd__ = __add__

    def __neg__(self):
        return _node(-self.data, (self,), _neg_back, "neg")

    def __sub__(self, other):
        a = self.data
        if isinstance(other, (float, int)) and not isinstance(other, bool):
            return _node(a - other, (self,), _identity_back, "sub")
        other = _const(other)
        b = other.data
        try:
            out = a - b
        except ValueError:
            raise _bshape_error("sub", a, b) from None
        sa, sb = a.shape, b.shape

        def back(g):
            return unbroadcast(g, sa), unbroadcast(-g, sb)

        return _node(out, (self, other), back, "sub")

    def __rsub__(self, other):
        return _const(other).__sub__(self)

    def __mul__(self, other):
        a = self.data
        if isinstance(other, (float, int)) and not isinstance(other, bool):
            c = float(other)
            return _node(a * c, (self,), lambda g: (g * c,), "mul")
        other = _const(other)
        b = other.data
        try:
            out = a * b
        except ValueError:
            raise _bshape_error("mul", a, b) from None
        x, y = self, other

        def back(g):
            ga = unbroadcast(g * b, a.shape) if x.requires_grad else None
            gb = unbroadcast(g * a, b.shape) if y.requires_grad else None
            return ga, gb

        return _node(out, (self, other), back, "mul")

    __rmul__ = __mul__

    def __truediv__(self, other):
        a = self.data
        if isinstance(other, (float, int)) and not isinstance(other, bool):
            c = 1.0 / float(other)
            return _node(a * c, (self,), lambda g: (g * c,), "div")
        other = _const(other)
        b = other.data
        try:
            out = a / b
        except ValueError:
            raise _bshape_error("div", a, b) from None
        x, y = self, other

        def back(g):
            ga = unbroadcast(g / b, a.shape) if x.requires_grad else None
            gb = unbroadcast(-g * out / b, b.shape) if y.requires_grad else None
            return ga, gb

        return _node(out, (self, other), back, "div")

    def __rtruediv__(self, other):
        return _const(other).__truediv__(self)

    def __pow__(self, p):
        if isinstance(p, Tensor) or isinstance(p, bool) or not isinstance(p, (int, float, np.number)):
            raise ValueError(f"pow: got exponent {type(p).__name__}; expected a number")
        p = float(p)
        a = self.data
        if p == 2.0:
            return _node(a * a, (self,), lambda g: (g * 2.0 * a,), "pow")
        out = a**p

        def back(g):
            return (g * p * a ** (p - 1.0),)

        return _node(out, (self,), back, "pow")

    def __rpow__(self, base):
        if isinstance(base, bool) or not isinstance(base, (int, float, np.number)) or base <= 0:
            raise ValueError(f"pow: got base {base!r}; expected a positive number")
        out = float(base) ** self.data
        ln = float(np.log(base))
        return _node(out, (self,), lambda g: (g * out * ln,), "pow")

    # __matmul__, __rmatmul__ and __getitem__ are attached by core.tensor.ops

    # --- reductions -------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Σ over `axis` (None: all); the gradient is broadcast back over the summed axes."""
        a = self.data
        axes = _norm_axis(axis, a.ndim, "sum")
        out = a.sum(axis=axes, keepdims=keepdims)
        shape = a.shape
        return _node(out, (self,), lambda g: (_expand(g, shape, axes, keepdims),), "sum")

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The average over `axis` (None: all); gradient g / count on every element."""
        a = self.data
        axes = _norm_axis(axis, a.ndim, "mean")
        count = 1
        for i in axes:
            count *= a.shape[i]
        if count == 0:
            raise ShapeError(f"mean: got shape {a.shape} with an empty axis; expected elements")
        out = a.sum(axis=axes, keepdims=keepdims) * (1.0 / count)
        shape = a.shape
        return _node(out, (self,), lambda g: (_expand(g / count, shape, axes, keepdims),), "mean")

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The largest value over `axis` (values only); ties share the gradient equally."""
        a = self.data
        axes = _norm_axis(axis, a.ndim, "max")
        if a.size == 0:
            raise ShapeError(f"max: got the empty shape {a.shape}; expected elements")
        out = a.max(axis=axes, keepdims=True)

        def back(g):
            mask = a == out
            g = g if keepdims else np.expand_dims(g, axes)
            return (mask * (g / mask.sum(axis=axes, keepdims=True)),)

        res = out if keepdims else out.reshape([n for i, n in enumerate(a.shape) if i not in axes])
        return _node(res, (self,), back, "max")

    def min(self, axis=None, keepdims: bool = False) -> "Tensor":
        return -((-self).max(axis, keepdims))

    def var(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The biased variance (divides by the count), as LayerNorm uses."""
        d = self - self.mean(axis, keepdims=True)
        return (d * d).mean(axis, keepdims)

    # --- elementwise functions --------------------------------------------------------------
    def exp(self):
        out = np.exp(self.data)
        return _node(out, (self,), lambda g: (g * out,), "exp")

    def log(self):
        a = self.data
        return _node(np.log(a), (self,), lambda g: (g / a,), "log")

    def sqrt(self):
        out = np.sqrt(self.data)
        return _node(out, (self,), lambda g: (g * 0.5 / out,), "sqrt")

    def tanh(self):
        out = np.tanh(self.data)
        return _node(out, (self,), lambda g: (g * (1.0 - out * out),), "tanh")

    def sigmoid(self):
        out = 0.5 + 0.5 * np.tanh(0.5 * self.data)  # σ(x), stable for any x
        return _node(out, (self,), lambda g: (g * out * (1.0 - out),), "sigmoid")

    def relu(self):
        a = self.data
        return _node(np.maximum(a, 0.0), (self,), lambda g: (g * (a > 0),), "relu")

    def abs(self):
        a = self.data
        return _node(np.abs(a), (self,), lambda g: (g * np.sign(a),), "abs")

    def clamp(self, min=None, max=None):
        """Clip to [min, max]; the gradient passes where the value was inside."""
        a = self.data
        out = np.clip(a, min, max)
        return _node(out, (self,), lambda g: (g * (out == a),), "clamp")

    def log1p(self):
        a = self.data
        return _node(np.log1p(a), (self,), lambda g: (g / (1.0 + a),), "log1p")

    # --- shape ------------------------------------------------------------------------------
    def reshape(self, *shape) -> "Tensor":
        """Same data in a new shape (one entry may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        a = self.data
        try:
            out = a.reshape(shape)
        except (ValueError, TypeError):
            raise ShapeError(
                f"reshape: got shape {a.shape} ({a.size} elements) and target {shape}; expected a "
                "target with the same number of elements"
            ) from None
        old = a.shape
        return _node(out, (self,), lambda g: (g.reshape(old),), "reshape")

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        s = self.data.shape
        if not s:
            return self.reshape(1)
        lo, hi = _norm_axis(start_dim, len(s), "flatten")[0], _norm_axis(end_dim, len(s), "flatten")[0]
        n = 1
        for k in s[lo : hi + 1]:
            n *= k
        return self.reshape(s[:lo] + (n,) + s[hi + 1 :])

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """Swap two axes."""
        nd = self.data.ndim
        for d in (dim0, dim1):
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not -nd <= d < nd:
                raise ShapeError(f"transpose: got axes ({dim0}, {dim1}) for {nd}-d; expected in [-{nd}, {nd})")
        out = np.swapaxes(self.data, dim0, dim1)
        return _node(out, (self,), lambda g: (np.swapaxes(g, dim0, dim1),), "transpose")

    def permute(self, *dims) -> "Tensor":
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        nd = self.data.ndim
        if sorted(d % nd if nd else d for d in dims) != list(range(nd)):
            raise ShapeError(f"permute: got {dims} for {nd}-d; expected a permutation of range({nd})")
        inv = tuple(np.argsort([d % nd for d in dims]))
        out = np.transpose(self.data, dims)
        return _node(out, (self,), lambda g: (np.transpose(g, inv),), "permute")

    def unsqueeze(self, dim: int) -> "Tensor":
        nd = self.data.ndim + 1
        if not -nd <= dim < nd:
            raise ShapeError(f"unsqueeze: got dim {dim} for {nd - 1}-d; expected in [-{nd}, {nd})")
        d = dim % nd
        return self.reshape(self.data.shape[:d] + (1,) + self.data.shape[d:])

    def squeeze(self, dim=None) -> "Tensor":
        s = self.data.shape
        if dim is None:
            return self.reshape(tuple(n for n in s if n != 1))
        d = _norm_axis(dim, len(s), "squeeze")[0]
        if s[d] != 1:
            return self
        return self.reshape(s[:d] + s[d + 1 :])

    # comparisons give plain boolean arrays (no gradient), handy for masks and accuracy
    def __gt__(self, other):
        return self.data > _raw(other)

    def __lt__(self, other):
        return self.data < _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    __hash__ = object.__hash__


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


_SEQ_KEY = operator.attrgetter("_seq")


def _identity_back(g):
    return (g,)


def _neg_back(g):
    return (-g,)


def tensor(data, requires_grad: bool = False) -> Tensor:
    """A new float64 Tensor holding a copy of `data` (a number, sequence or array)."""
    return Tensor(data, requires_grad)


def _shape_args(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{op}: got shape {shape}; expected non-negative integers")
    return tuple(int(n) for n in shape)


def zeros(*shape, requires_grad: bool = False) -> Tensor:
    """A Tensor of zeros."""
    t = Tensor(np.zeros(_shape_args(shape, "zeros")), requires_grad)
    return t


def ones(*shape, requires_grad: bool = False) -> Tensor:
    """A Tensor of ones."""
    return Tensor(np.ones(_shape_args(shape, "ones")), requires_grad)


def randn(*shape, seed=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from `np.random.default_rng(seed)` (seed: int, Generator or None)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return Tensor(rng.standard_normal(_shape_args(shape, "randn")), requires_grad)
