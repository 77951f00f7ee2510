"""One place for numba's options and the registry of kernels that `core.warmup()` compiles."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba

#: Every kernel is compiled with these options: on-disk cache, and the GIL released so a kernel
#: running in a thread worker never starves the UI's event loop.
JIT_OPTIONS = {"cache": os.environ.get("DL_TUTOR_NO_CACHE") != "1", "nogil": True}


@dataclass(frozen=True)
class Kernel:
    """A registered kernel and a factory of tiny example arguments that compile it."""

    name: str
    dispatcher: Any
    example: Callable[[], tuple | list[tuple]]


_REGISTRY: list[Kernel] = []


def jit(func=None, **overrides):
    """`numba.njit` with the project's options; for helpers only other kernels call."""
    options = {**JIT_OPTIONS, **overrides}

    def wrap(pyfunc):
        return numba.njit(**options)(pyfunc)

    return wrap(func) if func is not None else wrap


def kernel(example: Callable[[], tuple | list[tuple]], **overrides):
    """Compile `pyfunc` like `jit` and register it for warm-up.

    `example()` returns the argument tuple of one tiny call (or a list of tuples, one per
    signature the kernel is used with). Arrays must have the dtypes and ranks of real calls so
    warm-up compiles the very signatures the app uses.
    """

    def wrap(pyfunc):
        dispatcher = jit(pyfunc, **overrides)
        _REGISTRY.append(Kernel(f"{pyfunc.__module__}.{pyfunc.__name__}", dispatcher, example))
        return dispatcher

    return wrap


def registered() -> list[Kernel]:
    """The kernels registered so far (import the subpackages first to see them all)."""
    return list(_REGISTRY)


def compile_all(progress_callback=None, packages=None) -> list[tuple[str, BaseException]]:
    """Call every registered kernel (of `packages`, if given) on its example arguments."""
    failures: list[tuple[str, BaseException]] = []
    kernels = registered()
    if packages is not None:
        kernels = [k for k in kernels if k.name.split(".")[1] in packages]
    for done, k in enumerate(kernels, start=1):
        try:
            examples = k.example()
            for args in examples if isinstance(examples, list) else [examples]:
                k.dispatcher(*args)
        except Exception as exc:  # a broken kernel is reported, the others still compile
            failures.append((k.name, exc))
        if progress_callback is not None:
            progress_callback(done, len(kernels), k.name)
    return failures
