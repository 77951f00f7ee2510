"""Progress: round trips, atomic writes, corrupt files moved aside with a notice, save failures."""

from __future__ import annotations

import json

import pytest

from tutor.progress import Progress, data_dir


def test_data_dir_follows_the_override(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_TUTOR_DATA_DIR", str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x"
    assert Progress.load().path == tmp_path / "x" / "progress.json"


def test_round_trip(tmp_path):
    path = tmp_path / "p.json"
    p = Progress.load(path)
    assert p.status("a") == "new" and p.notice is None
    p.open_lesson("a")
    p.open_lesson("b")
    p.set_done("a")
    p.record_quiz("a", "q1", "3", False)
    p.record_quiz("a", "q1", "4", True)
    p.record_lab_answer("backprop", True)
    p.record_lab_answer("backprop", False)
    p.theme = "nord"
    assert p.save()
    q = Progress.load(path)
    assert q.status("a") == "done" and q.status("b") == "started"
    assert q.last_lesson == "b" and q.theme == "nord"
    assert q.quiz_record("a", "q1") == {"attempts": 2, "correct": True, "last": "4", "first_try": False}
    assert q.labs["backprop"] == {"right": 1, "wrong": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["p.json"], "no temp file left behind"


def test_opening_a_done_lesson_keeps_it_done(tmp_path):
    p = Progress.load(tmp_path / "p.json")
    p.set_done("a")
    p.open_lesson("a")
    assert p.status("a") == "done"


def test_corrupt_file_is_moved_aside_with_a_notice(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"lessons": {"a": "done"')
    p = Progress.load(path)
    assert p.notice and "damaged" in p.notice
    kept = [f for f in tmp_path.iterdir() if f.name.startswith("p.corrupt-")]
    assert len(kept) == 1 and kept[0].read_text() == '{"lessons": {"a": "done"'
    assert p.status("a") == "new"
    assert p.save() and json.loads(path.read_text())["lessons"] == {}


def test_wrong_shapes_count_as_corrupt(tmp_path):
    for content in ('[1, 2]', '{"lessons": [1]}', '{"version": 99}', '"text"'):
        path = tmp_path / "p.json"
        path.write_text(content)
        assert Progress.load(path).notice is not None, content


def test_unknown_values_are_set_aside_with_a_notice_not_fatal(tmp_path):
    path = tmp_path / "p.json"
    original = json.dumps({"lessons": {"a": "done", "b": "weird"}, "last_lesson": 5})
    path.write_text(original)
    p = Progress.load(path)
    assert p.lessons == {"a": "done"} and p.last_lesson is None
    assert "lessons['b']" in p.notice and "'last_lesson'" in p.notice
    kept = [f for f in tmp_path.iterdir() if f.name.startswith("p.set-aside-")]
    assert len(kept) == 1 and kept[0].read_text() == original


def test_save_failure_is_reported_and_data_kept(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    p = Progress.load(blocker / "sub" / "p.json")
    p.set_done("a")
    assert p.save() is False
    assert p.save_error and "Could not save" in p.save_error
    assert p.status("a") == "done"


@pytest.mark.parametrize("bad", [
    {"quizzes": {"l/q": {"attempts": "many", "correct": False}}},
    {"quizzes": {"l/q": {"attempts": float("nan"), "correct": True}}},
    {"quizzes": {"l/q": {"attempts": None}}},
    {"quizzes": {"l/q": {"attempts": 1, "correct": "yes"}}},
    {"quizzes": {"l/q": {"attempts": -3}}},
    {"quizzes": {"l/q": {"attempts": True}}},
    {"labs": {"backprop": {"right": "x", "wrong": 0}}},
    {"labs": {"backprop": {"right": float("nan")}}},
    {"labs": {"backprop": {"right": None, "wrong": None}}},
    {"labs": {"backprop": [1]}},
    {"lab_states": {"a": {"deep": [[[[[[[[[[[1]]]]]]]]]]]}}},
    {"lab_states": {"a": "text"}},
    {"theme": ["nord"]},
])
def test_wrong_types_inside_are_set_aside_and_the_next_write_works(tmp_path, bad):
    """`"attempts": "many"` or lab scores "x"/NaN/null crashed the app at its next write."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"lessons": {"keep": "done"}, **bad}))
    p = Progress.load(path)
    assert p.notice and "set aside" in p.notice
    assert p.status("keep") == "done"
    p.record_quiz("l", "q", "3", True)
    p.record_lab_answer("backprop", True)
    assert p.save()
    q = Progress.load(path)
    assert q.notice is None and q.quiz_record("l", "q")["attempts"] == 1
    assert q.labs["backprop"] == {"right": 1, "wrong": 0}


def test_deeply_nested_and_huge_files_are_moved_aside(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"lessons": ' + "[" * 100_000 + "]" * 100_000 + "}")
    p = Progress.load(path)
    assert p.notice and "damaged" in p.notice
    path.write_text('{"version": "x"}')
    assert "version" in Progress.load(path).notice


def test_first_try_is_kept(tmp_path):
    p = Progress.load(tmp_path / "p.json")
    p.record_quiz("a", "q", "1", True)
    p.record_quiz("a", "q", "2", False)
    assert p.quiz_record("a", "q")["first_try"] is True


def test_two_instances_merge_on_save(tmp_path):
    """Each instance saves its own changes on top of the other's: the last writer used to win."""
    path = tmp_path / "p.json"
    a, b = Progress.load(path), Progress.load(path)
    a.set_done("x")
    a.record_lab_answer("gridworld", True)
    a.record_quiz("x", "q", "1", False)
    assert a.save()
    b.set_done("y")
    b.record_lab_answer("gridworld", False)
    b.record_lab_answer("gridworld", True)
    b.record_quiz("x", "q", "2", True)
    b.theme = "nord"
    assert b.save()
    c = Progress.load(path)
    assert c.status("x") == "done" and c.status("y") == "done"
    assert c.labs["gridworld"] == {"right": 2, "wrong": 1}
    assert c.quiz_record("x", "q") == {"attempts": 2, "correct": True, "last": "2", "first_try": False}
    assert c.theme == "nord"
    a.set_done("x", False)  # an explicit undo in one instance still wins over the file
    assert a.save() and Progress.load(path).status("x") == "started"
    assert a.status("y") == "done", "the saving instance also sees the other's work"


_WRITER = """
import sys
from tutor.progress import Progress
path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Progress.load(path)
for i in range(n):
    p.set_done(f"{tag}-{i}")
    p.record_lab_answer("lab", True)
    assert p.save(), p.save_error
"""


def test_two_processes_saving_at_once_lose_nothing(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "p.json"
    root = str(Path(__file__).resolve().parents[2])
    env = {**__import__("os").environ, "PYTHONPATH": root}
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), tag, "40"], env=env)
             for tag in ("a", "b")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    p = Progress.load(path)
    assert p.notice is None
    assert sorted(p.lessons) == sorted(f"{t}-{i}" for t in "ab" for i in range(40))
    assert p.labs["lab"]["right"] == 80


def test_lab_states_are_kept_as_plain_json(tmp_path):
    import numpy as np

    p = Progress.load(tmp_path / "p.json")
    p.set_lab_state("a", {"cells": [(1, 2)], "k": np.int64(3), "gamma": np.float64(0.5)})
    p.set_lab_state("b", {"bad": float("nan")})
    p.set_lab_state("c", {"big": "x" * 100_000})
    assert p.save()
    q = Progress.load(tmp_path / "p.json")
    assert q.lab_state("a") == {"cells": [[1, 2]], "k": 3, "gamma": 0.5}
    assert q.lab_state("b") is None and q.lab_state("c") is None
