"""The `dl-tutor` command: launch the app, or list lessons, warm up kernels, show one lab."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# The labs' matrices are small (at most a few hundred rows): a second BLAS thread only adds
# synchronisation, and it competes with the UI thread and the training worker for the cores
# (two labs measured 20-40 ms stalls on one product). Set before NumPy loads; the user's own
# setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from tutor import __version__  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dl-tutor",
        description="Learn deep learning in the terminal: lessons beside live labs.",
    )
    p.add_argument("--version", action="version", version=f"dl-tutor {__version__}")
    p.add_argument("--list-lessons", action="store_true", help="print the catalog and exit")
    p.add_argument("--warmup", action="store_true", help="compile every kernel, then exit")
    p.add_argument("--ascii", action="store_true", help="draw images with ASCII characters")
    p.add_argument(
        "--lessons", action="append", default=[], metavar="DIR",
        help="also load the lesson files (*.md) of DIR (may be repeated)",
    )
    p.add_argument("--lab", metavar="NAME", help="open one lab at full screen, without a lesson")
    p.add_argument("params", nargs="*", help="with --lab: parameters as key=value")
    p.add_argument("--no-resume", action="store_true", help="start at the catalog")
    p.add_argument("--open", metavar="LESSON_ID",
                   help="open this lesson directly (--list-lessons shows the ids)")
    return p


def _warmup() -> int:
    import core

    width = 30

    def bar(done: int, total: int, name: str) -> None:
        filled = width * done // max(total, 1)
        short = name.rsplit(".", 2)[-2:]
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {'.'.join(short)[:40]:40s}")
        sys.stdout.flush()

    failures = core.warmup(bar)
    print(f"\nkernels cached in {core.cache_dir() or '(no writable cache folder: not cached)'}")
    for name, exc in failures:
        print(f"failed: {name}: {exc}", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    dirs = [Path(d) for d in args.lessons]
    if args.list_lessons:
        from tutor.content import print_catalog

        return print_catalog(dirs)
    if args.warmup:
        return _warmup()
    ascii_mode = args.ascii or bool(os.environ.get("NO_COLOR"))
    from tutor.labs.gc_hold import collect_less_often

    collect_less_often()  # a full collection with a few lessons built took 0.6 s
    if args.lab:
        from tutor.labdemo import LabApp, parse_assignments
        from tutor.labs import ParamError, lab_names

        try:
            app = LabApp(args.lab, parse_assignments(args.params))
        except (ParamError, ValueError) as exc:
            print(f"dl-tutor: {exc}\nlabs: {', '.join(lab_names())}", file=sys.stderr)
            return 2
        app.ascii_mode = ascii_mode
        import core

        core.warmup()
        app.run()
        if argv is None:
            _exit_now(app.return_code or 0)
        return app.return_code or 0
    from tutor.app import DlTutorApp
    from tutor.content import load_catalog

    catalog = load_catalog(dirs)
    if args.open and catalog.get(args.open) is None:
        close = [x.id for x in catalog.lessons if args.open.lower() in x.id or args.open.lower() in x.title.lower()]
        hint = f" Did you mean: {', '.join(close[:5])}?" if close else ""
        print(f"dl-tutor: there is no lesson {args.open!r}.{hint} "
              f"(dl-tutor --list-lessons shows the ids)", file=sys.stderr)
        return 2
    app = DlTutorApp(catalog, ascii_mode=ascii_mode, resume=not args.no_resume, open_lesson=args.open)
    app.fast_exit = argv is None
    app.build_ahead = argv is None
    try:
        app.run()
    finally:
        app.stop_kernels()  # however the app ended, the compiling child ends with it
    if argv is None:  # the real command (tests pass argv and keep their process)
        _exit_now(app.return_code or 0)
    return app.return_code or 0


def _exit_now(code: int) -> None:
    """Leave without Python's teardown: progress is saved and the terminal restored by then,
    and finalizing numba's compiled code and a warm-up thread took over a second."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
