"""Progress: round trips, atomic writes, corrupt files moved aside with a notice, save failures."""

from __future__ import annotations

import json

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
    assert q.quiz_record("a", "q1") == {"attempts": 2, "correct": True, "last": "4"}
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


def test_unknown_values_are_dropped_not_fatal(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"lessons": {"a": "done", "b": "weird"}, "last_lesson": 5}))
    p = Progress.load(path)
    assert p.notice is None and p.lessons == {"a": "done"} and p.last_lesson is None


def test_save_failure_is_reported_and_data_kept(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    p = Progress.load(blocker / "sub" / "p.json")
    p.set_done("a")
    assert p.save() is False
    assert p.save_error and "Could not save" in p.save_error
    assert p.status("a") == "done"
