"""The dl-tutor command line: listing lessons, versions, bad lab names, warm-up."""

from __future__ import annotations

import subprocess
import sys

from tutor import __version__
from tutor.__main__ import main
from tutor.labdemo import parse_assignments


def test_list_lessons_prints_every_chapter(capsys):
    assert main(["--list-lessons"]) == 0
    out = capsys.readouterr().out
    assert "0. Getting started" in out and "how-to-use" in out
    assert out.strip().endswith("0 errors")


def test_list_lessons_with_a_broken_extra_folder_fails_with_the_file_named(tmp_path, capsys):
    (tmp_path / "bad.md").write_text("no front matter")
    assert main(["--list-lessons", "--lessons", str(tmp_path)]) == 1
    assert "bad.md:1: a lesson must start with a +++" in capsys.readouterr().err


def test_unknown_lab_is_a_clear_error(capsys):
    assert main(["--lab", "no-such-lab"]) == 2
    assert "there is no lab 'no-such-lab'" in capsys.readouterr().err


def test_version_runs_as_a_real_command():
    out = subprocess.run(
        [sys.executable, "-m", "tutor", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"dl-tutor {__version__}"


def test_parse_assignments():
    assert parse_assignments(["a=1", "b=[1, 2]", "c=sobel_x", "d=\"x y\"", "e=true"]) == {
        "a": 1, "b": [1, 2], "c": "sobel_x", "d": "x y", "e": True,
    }


def test_warmup_draws_a_progress_bar_and_names_the_cache(capsys):
    assert main(["--warmup"]) == 0
    out = capsys.readouterr().out
    assert "[##############################]" in out
    assert "kernels cached in" in out


def test_the_app_runs_blas_on_one_thread_unless_the_user_says_otherwise():
    import os
    import subprocess
    import sys

    code = "import os, tutor.__main__; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "1"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "OPENBLAS_NUM_THREADS": "4"})
    assert out.stdout.strip() == "4"
