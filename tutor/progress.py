"""The student's progress: lesson status, quiz answers, lab scores, last lesson, theme.

Plain Python (no Textual). Stored as JSON in the user data dir (or `DL_TUTOR_DATA_DIR`), written
atomically (temp file + rename). A corrupt file is moved aside, never lost silently: `notice`
says where it went.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

VERSION = 1
STATUSES = ("new", "started", "done")


def data_dir() -> Path:
    """Where progress lives: `DL_TUTOR_DATA_DIR` if set, else the platform's user data dir."""
    override = os.environ.get("DL_TUTOR_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("dl-tutor", appauthor=False))


@dataclass
class Progress:
    """Everything the student would be sad to lose, with load/save to one JSON file."""

    path: Path
    lessons: dict[str, str] = field(default_factory=dict)  # id -> "started" | "done"
    quizzes: dict[str, dict] = field(default_factory=dict)  # "lesson/quiz" -> answer record
    labs: dict[str, dict] = field(default_factory=dict)  # lab -> {"right": n, "wrong": n}
    last_lesson: str | None = None
    theme: str | None = None
    notice: str | None = None  # set when the file could not be read as it was
    save_error: str | None = None  # set when the last save failed

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        """Read progress; a missing file is a fresh start, a corrupt one is moved aside."""
        path = Path(path) if path is not None else data_dir() / "progress.json"
        progress = cls(path)
        try:
            raw = path.read_text("utf-8")
        except FileNotFoundError:
            return progress
        except (OSError, UnicodeDecodeError) as exc:
            progress.notice = f"Could not read your progress file ({exc}); starting fresh."
            progress._move_aside()
            return progress
        try:
            data = json.loads(raw)
            progress._absorb(data)
        except (ValueError, TypeError, AttributeError) as exc:
            kept = progress._move_aside()
            where = f" It was kept as {kept}." if kept else ""
            progress.notice = f"Your progress file was damaged ({exc}) and could not be read.{where}"
            progress.lessons, progress.quizzes, progress.labs = {}, {}, {}
            progress.last_lesson = progress.theme = None
        return progress

    def _absorb(self, data: dict) -> None:
        if not isinstance(data, dict):
            raise ValueError("the top level is not an object")
        if data.get("version", VERSION) > VERSION:
            raise ValueError(f"it was written by a newer dl-tutor (version {data['version']})")
        lessons = data.get("lessons", {})
        if not isinstance(lessons, dict):
            raise ValueError("'lessons' is not an object")
        self.lessons = {str(k): v for k, v in lessons.items() if v in STATUSES[1:]}
        quizzes = data.get("quizzes", {})
        labs = data.get("labs", {})
        if not isinstance(quizzes, dict) or not isinstance(labs, dict):
            raise ValueError("'quizzes' or 'labs' is not an object")
        self.quizzes = {str(k): v for k, v in quizzes.items() if isinstance(v, dict)}
        self.labs = {str(k): v for k, v in labs.items() if isinstance(v, dict)}
        last, theme = data.get("last_lesson"), data.get("theme")
        self.last_lesson = last if isinstance(last, str) else None
        self.theme = theme if isinstance(theme, str) else None

    def _move_aside(self) -> Path | None:
        target = self.path.with_name(f"{self.path.stem}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}.json")
        try:
            os.replace(self.path, target)
            return target
        except OSError:
            return None

    def to_json(self) -> dict:
        return {
            "version": VERSION,
            "lessons": self.lessons,
            "quizzes": self.quizzes,
            "labs": self.labs,
            "last_lesson": self.last_lesson,
            "theme": self.theme,
        }

    def save(self) -> bool:
        """Write atomically; on failure keep the data in memory and set `save_error`."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
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
        self.save_error = None
        return True

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
        key = f"{lesson_id}/{quiz_id}"
        record = self.quizzes.get(key, {"attempts": 0, "correct": False})
        record["attempts"] = int(record.get("attempts", 0)) + 1
        record["correct"] = bool(record.get("correct")) or correct
        record["last"] = response
        self.quizzes[key] = record

    def quiz_record(self, lesson_id: str, quiz_id: str) -> dict | None:
        return self.quizzes.get(f"{lesson_id}/{quiz_id}")

    def record_lab_answer(self, lab: str, correct: bool) -> None:
        score = self.labs.setdefault(lab, {"right": 0, "wrong": 0})
        score["right" if correct else "wrong"] = int(score.get("right" if correct else "wrong", 0)) + 1
