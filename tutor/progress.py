"""The student's progress: lesson status, quiz answers, lab scores, last lesson, theme.

Plain Python (no Textual). Stored as JSON in the user data dir (or `DL_TUTOR_DATA_DIR`), written
atomically (temp file + rename) after merging with the file on disk (two instances at once keep
both their work). A corrupt file is moved aside, entries of the wrong shape are set aside, never
lost silently: `notice` says where the original went.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

VERSION = 1
STATUSES = ("new", "started", "done")
MAX_FILE_BYTES = 8_000_000
"""A progress file larger than this is not read (it is moved aside): a real one is a few kB."""
MAX_LAB_STATE_CHARS = 20_000
"""A lesson's saved lab state (JSON) larger than this is not kept."""


def data_dir() -> Path:
    """Where progress lives: `DL_TUTOR_DATA_DIR` if set, else the platform's user data dir."""
    override = os.environ.get("DL_TUTOR_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("dl-tutor", appauthor=False))


def _count(value) -> int | None:
    """A non-negative whole number, or None (bools, NaN, strings, negatives are not counts)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value < 2**53:
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value < 2**53:
        return int(value)
    return None


def _plain(value, depth: int = 0) -> bool:
    """JSON made of finite numbers, strings, bools, null, lists and objects, at most 8 deep."""
    if depth > 8:
        return False
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _quiz(record) -> dict | None:
    if not isinstance(record, dict):
        return None
    attempts = _count(record.get("attempts", 0))
    correct = record.get("correct", False)
    last = record.get("last")
    if attempts is None or not isinstance(correct, bool):
        return None
    if not (last is None or isinstance(last, str) or (_plain(last) and not isinstance(last, (list, dict)))):
        return None
    clean = {"attempts": attempts, "correct": correct, "last": last}
    first = record.get("first_try")
    if isinstance(first, bool):
        clean["first_try"] = first
    return clean


def _score(score) -> dict | None:
    if not isinstance(score, dict):
        return None
    right, wrong = _count(score.get("right", 0)), _count(score.get("wrong", 0))
    if right is None or wrong is None:
        return None
    return {"right": right, "wrong": wrong}


def _lab_state(state) -> dict | None:
    if not isinstance(state, dict) or not _plain(state):
        return None
    if len(json.dumps(state)) > MAX_LAB_STATE_CHARS:
        return None
    return state


@dataclass
class Progress:
    """Everything the student would be sad to lose, with load/save to one JSON file.

    Saving merges: the file is read again, this instance's changes since it last read or wrote
    it are applied on top (counters add up), and the result is written atomically under a
    lock, so two dl-tutors running at once both keep their work.
    """

    path: Path
    lessons: dict[str, str] = field(default_factory=dict)  # id -> "started" | "done"
    quizzes: dict[str, dict] = field(default_factory=dict)  # "lesson/quiz" -> answer record
    labs: dict[str, dict] = field(default_factory=dict)  # lab -> {"right": n, "wrong": n}
    lab_states: dict[str, dict] = field(default_factory=dict)  # lesson id -> its lab's state
    last_lesson: str | None = None
    theme: str | None = None
    notice: str | None = None  # set when the file could not be read as it was
    save_error: str | None = None  # set when the last save failed
    _base: dict = field(default_factory=dict, repr=False)  # the file as last read or written

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        """Read progress; a missing file is a fresh start, a corrupt one is moved aside, and
        entries of the wrong shape are dropped (the original file is kept beside it)."""
        path = Path(path) if path is not None else data_dir() / "progress.json"
        progress = cls(path)
        data, problem = _read(path)
        if problem is not None:
            kept = progress._move_aside()
            where = f" It was kept as {kept}." if kept else ""
            progress.notice = f"Your progress file was damaged ({problem}) and could not be read.{where}"
        elif data is not None:
            dropped = progress._absorb(data)
            if dropped:
                kept = progress._copy_aside()
                where = f" The original file was kept as {kept}." if kept else ""
                more = f" (and {len(dropped) - 3} more)" if len(dropped) > 3 else ""
                progress.notice = (f"Some entries of your progress file were not valid and were "
                                   f"set aside: {'; '.join(dropped[:3])}{more}.{where}")
        progress._base = copy.deepcopy(progress.to_json())
        return progress

    def _absorb(self, data: dict) -> list[str]:
        """Take the valid entries of `data`; return what was dropped (one phrase each)."""
        dropped: list[str] = []

        def table(name: str, clean) -> dict:
            raw = data.get(name, {})
            if not isinstance(raw, dict):
                dropped.append(f"'{name}' is not an object")
                return {}
            kept = {}
            for key, value in raw.items():
                good = clean(value)
                if good is None:
                    dropped.append(f"{name}[{key[:40]!r}]")
                else:
                    kept[key] = good
            return kept

        self.lessons = table("lessons", lambda v: v if v in STATUSES[1:] else None)
        self.quizzes = table("quizzes", _quiz)
        self.labs = table("labs", _score)
        self.lab_states = table("lab_states", _lab_state)
        for name in ("last_lesson", "theme"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                dropped.append(f"'{name}'")
                value = None
            setattr(self, name, value)
        return dropped

    def _aside_name(self, kind: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json")

    def _move_aside(self) -> Path | None:
        target = self._aside_name("corrupt")
        try:
            os.replace(self.path, target)
            return target
        except OSError:
            return None

    def _copy_aside(self) -> Path | None:
        target = self._aside_name("set-aside")
        try:
            shutil.copyfile(self.path, target)
            return target
        except OSError:
            return None

    def to_json(self) -> dict:
        return {
            "version": VERSION,
            "lessons": self.lessons,
            "quizzes": self.quizzes,
            "labs": self.labs,
            "lab_states": self.lab_states,
            "last_lesson": self.last_lesson,
            "theme": self.theme,
        }

    def save(self) -> bool:
        """Merge with the file as it is now and write atomically; on failure keep the data in
        memory and set `save_error`."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(self.path):
                self._merge_from_disk()
                fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=self.path.parent)
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as f:
                        json.dump(self.to_json(), f, indent=1, sort_keys=True)
                        f.flush()
                        os.fsync(f.fileno())
                    os.replace(tmp, self.path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
        except OSError as exc:
            self.save_error = f"Could not save progress to {self.path}: {exc}"
            return False
        self._base = copy.deepcopy(self.to_json())
        self.save_error = None
        return True

    def _merge_from_disk(self) -> None:
        """Apply this instance's changes (since `_base`) on top of the file as it is now."""
        data, problem = _read(self.path)
        if data is None or problem is not None:
            return  # nothing readable on disk: ours is the whole truth
        disk = Progress(self.path)
        disk._absorb(data)
        base = self._base
        mine = self.to_json()
        merged = disk.to_json()
        for name in ("lessons", "lab_states"):
            _apply(merged[name], base.get(name, {}), mine[name])
        for key, ours in mine["quizzes"].items():
            before = base.get("quizzes", {}).get(key)
            if ours == before:
                continue
            theirs = merged["quizzes"].get(key)
            if theirs is None or before is None and theirs == ours:
                merged["quizzes"][key] = ours
                continue
            added = ours["attempts"] - (before or {}).get("attempts", 0)
            record = dict(ours)
            record["attempts"] = theirs["attempts"] + max(0, added)
            record["correct"] = theirs["correct"] or ours["correct"]
            if "first_try" in theirs:
                record["first_try"] = theirs["first_try"]
            merged["quizzes"][key] = record
        for lab, ours in mine["labs"].items():
            before = base.get("labs", {}).get(lab, {"right": 0, "wrong": 0})
            theirs = merged["labs"].get(lab, {"right": 0, "wrong": 0})
            merged["labs"][lab] = {k: theirs[k] + max(0, ours[k] - before.get(k, 0))
                                   for k in ("right", "wrong")}
        for name in ("last_lesson", "theme"):
            if mine[name] != base.get(name):
                merged[name] = mine[name]
        self.lessons, self.quizzes, self.labs = merged["lessons"], merged["quizzes"], merged["labs"]
        self.lab_states = merged["lab_states"]
        self.last_lesson, self.theme = merged["last_lesson"], merged["theme"]

    # --- what the app records -------------------------------------------------------------
    def status(self, lesson_id: str) -> str:
        return self.lessons.get(lesson_id, "new")

    def open_lesson(self, lesson_id: str) -> None:
        self.last_lesson = lesson_id
        if self.status(lesson_id) == "new":
            self.lessons[lesson_id] = "started"

    def set_done(self, lesson_id: str, done: bool = True) -> None:
        self.lessons[lesson_id] = "done" if done else "started"

    def record_quiz(self, lesson_id: str, quiz_id: str, response, correct: bool) -> None:
        """One checked answer; `first_try` keeps whether the first one was right."""
        key = f"{lesson_id}/{quiz_id}"
        record = dict(self.quizzes.get(key, {"attempts": 0, "correct": False}))
        if record["attempts"] == 0:
            record["first_try"] = bool(correct)
        record["attempts"] = record["attempts"] + 1
        record["correct"] = bool(record.get("correct")) or bool(correct)
        record["last"] = response if isinstance(response, (str, int)) else str(response)
        self.quizzes[key] = record

    def quiz_record(self, lesson_id: str, quiz_id: str) -> dict | None:
        return self.quizzes.get(f"{lesson_id}/{quiz_id}")

    def record_lab_answer(self, lab: str, correct: bool) -> None:
        score = dict(self.labs.get(lab, {"right": 0, "wrong": 0}))
        score["right" if correct else "wrong"] += 1
        self.labs[lab] = score

    def lab_state(self, lesson_id: str) -> dict | None:
        """The lab state saved when the student last left lesson `lesson_id`."""
        return self.lab_states.get(lesson_id)

    def set_lab_state(self, lesson_id: str, state: dict | None) -> None:
        """Keep (or with None forget) the lesson's lab state; too large or odd ones are not kept."""
        clean = None
        if state is not None:
            try:  # tuples become lists, numpy numbers plain ones; NaN or objects: not kept
                clean = _lab_state(json.loads(json.dumps(state, allow_nan=False, default=_number)))
            except (TypeError, ValueError, RecursionError):
                clean = None
        if clean is None:
            self.lab_states.pop(lesson_id, None)
        else:
            self.lab_states[lesson_id] = clean


def _number(value):
    """JSON for numpy scalars (anything else is refused)."""
    if hasattr(value, "item") and not hasattr(value, "__len__"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _apply(target: dict, base: dict, mine: dict) -> None:
    """Entries changed or added in `mine` since `base` overwrite `target`; removed ones go."""
    for key, value in mine.items():
        if base.get(key) != value:
            target[key] = value
    for key in base:
        if key not in mine:
            target.pop(key, None)


def _read(path: Path) -> tuple[dict | None, str | None]:
    """(data, None), (None, None) for no file, or (None, why it is unreadable)."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, str(exc)
    if len(raw) > MAX_FILE_BYTES:
        return None, f"larger than {MAX_FILE_BYTES // 1_000_000} MB"
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        return None, "nested too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        return None, str(exc)
    if not isinstance(data, dict):
        return None, "the top level is not an object"
    version = data.get("version", VERSION)
    if _count(version) is None:
        return None, f"its version {str(version)[:20]!r} is not a number"
    if version > VERSION:
        return None, f"it was written by a newer dl-tutor (version {version})"
    return data, None


@contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on `path`'s folder while merging and writing (POSIX flock on the
    folder itself, so no lock file is left behind; elsewhere no lock)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
