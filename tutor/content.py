"""Lesson files: parse, validate and order them into a catalog (plain Python, no Textual).

A lesson is Markdown with a TOML front matter between `+++` lines, optional ```lab``` and
```quiz``` blocks in TOML (see CONTRIBUTING.md). A file that fails to parse becomes a
`LessonError` naming the file and line; the other lessons still load.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tutor.labs import ParamError, validate_lab

FRONT_KEYS = {"id": str, "title": str, "chapter": int, "order": int, "sections": list}
QUIZ_KEYS = {"id", "question", "answer", "tolerance", "choices", "correct", "hint", "explanation"}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_LESSON_BYTES = 256_000


class LessonFormatError(ValueError):
    """A lesson file is malformed; `line` is the 1-based line in the file."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Quiz:
    """A question: numeric (`answer` within `tolerance`) or multiple choice (`correct` index)."""

    id: str
    question: str
    answer: float | None = None
    tolerance: float = 1e-6
    choices: tuple[str, ...] = ()
    correct: int | None = None
    hint: str = ""
    explanation: str = ""

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def check(self, response: str | int) -> tuple[bool | None, str]:
        """(True/False, feedback) for an answer; (None, message) when it cannot be read."""
        if self.is_choice:
            try:
                index = int(response)
            except (TypeError, ValueError):
                return None, "Pick one of the choices."
            if not 0 <= index < len(self.choices):
                return None, f"Pick a choice between 1 and {len(self.choices)}."
            ok = index == self.correct
            right = self.choices[self.correct]
            return ok, ("Correct." if ok else f"Not quite: the answer is “{right}”.")
        text = str(response).strip().replace("−", "-")
        try:
            value = float(text)
        except ValueError:
            return None, f"“{text}” is not a number; type a number such as -4 or 0.25."
        if not math.isfinite(value):
            return None, "Type a finite number."
        ok = abs(value - self.answer) <= self.tolerance
        return ok, ("Correct." if ok else f"Not quite: the answer is {self.answer:g}.")


@dataclass(frozen=True)
class LabBlock:
    """The lab shown beside a lesson, with its validated, default-filled parameters."""

    name: str
    params: dict


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    chapter: int
    order: int
    sections: tuple[str, ...]
    parts: tuple  # str (Markdown) and Quiz, in reading order
    lab: LabBlock | None
    source: str

    @property
    def quizzes(self) -> list[Quiz]:
        return [p for p in self.parts if isinstance(p, Quiz)]

    @property
    def text(self) -> str:
        """The Markdown text without the quizzes."""
        return "\n\n".join(p for p in self.parts if isinstance(p, str))


@dataclass(frozen=True)
class LessonError:
    """A lesson file that could not be loaded."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass
class Chapter:
    number: int
    title: str
    lessons: list[Lesson] = field(default_factory=list)


@dataclass
class Catalog:
    """Chapters in the notes' order, each with its lessons in order, and the broken files."""

    chapters: list[Chapter]
    errors: list[LessonError]

    @property
    def lessons(self) -> list[Lesson]:
        return [lesson for ch in self.chapters for lesson in ch.lessons]

    def get(self, lesson_id: str) -> Lesson | None:
        return next((x for x in self.lessons if x.id == lesson_id), None)

    def neighbour(self, lesson_id: str, offset: int) -> Lesson | None:
        """The lesson `offset` places after (or before) `lesson_id` in course order."""
        ids = [x.id for x in self.lessons]
        if lesson_id not in ids:
            return None
        k = ids.index(lesson_id) + offset
        return self.lessons[k] if 0 <= k < len(ids) else None


def _toml(text: str, first_line: int, what: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        found = re.search(r"line (\d+)", msg)
        if found:
            line = first_line + int(found.group(1)) - 1
        elif "end of document" in msg:
            line = first_line + max(len(text.splitlines()) - 1, 0)
        else:
            line = first_line
        msg = re.sub(r"\s*\((at line \d+, column \d+|at end of document)\)", "", msg)
        raise LessonFormatError(f"malformed TOML in {what}: {msg}", line) from None


def _front_matter(lines: list[str]) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "+++":
        raise LessonFormatError("a lesson must start with a +++ front-matter block", 1)
    for end in range(1, len(lines)):
        if lines[end].strip() == "+++":
            break
    else:
        raise LessonFormatError("the front matter is not closed by a +++ line", 1)
    meta = _toml("\n".join(lines[1:end]), 2, "the front matter")
    for key, kind in FRONT_KEYS.items():
        if key not in meta:
            raise LessonFormatError(f"the front matter needs {key!r}", 1)
        if not isinstance(meta[key], kind) or (kind is int and isinstance(meta[key], bool)):
            raise LessonFormatError(f"{key!r} must be a {kind.__name__}, got {meta[key]!r}", 1)
    extra = sorted(set(meta) - set(FRONT_KEYS))
    if extra:
        raise LessonFormatError(f"unknown front-matter key {extra[0]!r}", 1)
    if not ID_PATTERN.match(meta["id"]):
        raise LessonFormatError(
            f"id {meta['id']!r} must be lowercase letters, digits, '-', '_' or '.'", 1
        )
    if not all(isinstance(s, str) for s in meta["sections"]):
        raise LessonFormatError("'sections' must be a list of strings such as \"2.4.1\"", 1)
    return meta, end + 1


def _quiz(data: dict, number: int, line: int) -> Quiz:
    unknown = sorted(set(data) - QUIZ_KEYS)
    if unknown:
        raise LessonFormatError(f"quiz has an unknown key {unknown[0]!r}", line)
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise LessonFormatError("quiz needs a 'question' text", line)
    for key in ("hint", "explanation", "id"):
        if key in data and not isinstance(data[key], str):
            raise LessonFormatError(f"quiz {key!r} must be text", line)
    common = {
        "id": data.get("id", f"q{number}"),
        "question": question.strip(),
        "hint": data.get("hint", "").strip(),
        "explanation": data.get("explanation", "").strip(),
    }
    if "choices" in data:
        choices = data["choices"]
        if "answer" in data:
            raise LessonFormatError("quiz has both 'choices' and 'answer'; use one", line)
        if not isinstance(choices, list) or len(choices) < 2 or not all(
            isinstance(c, str) for c in choices
        ):
            raise LessonFormatError("quiz 'choices' must be a list of at least two texts", line)
        correct = data.get("correct")
        if isinstance(correct, bool) or not isinstance(correct, int):
            raise LessonFormatError("quiz with choices needs 'correct', a 0-based index", line)
        if not 0 <= correct < len(choices):
            raise LessonFormatError(
                f"quiz 'correct' = {correct} is not an index of its {len(choices)} choices", line
            )
        return Quiz(choices=tuple(choices), correct=correct, **common)
    answer = data.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        raise LessonFormatError("quiz needs a finite numeric 'answer' or a list of 'choices'", line)
    tol = data.get("tolerance", 1e-6)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
        raise LessonFormatError("quiz 'tolerance' must be a number >= 0", line)
    return Quiz(answer=float(answer), tolerance=float(tol), **common)


def parse_lesson(text: str, source: str = "<lesson>") -> Lesson:
    """Parse one lesson file's text; raise LessonFormatError (with a line) when it is malformed."""
    lines = text.splitlines()
    meta, i = _front_matter(lines)
    parts: list = []
    lab: LabBlock | None = None
    prose: list[str] = []
    quiz_ids: set[str] = set()
    while i < len(lines):
        fence = re.match(r"^```\s*(lab|quiz)\s*$", lines[i])
        if not fence:
            prose.append(lines[i])
            i += 1
            continue
        start = i + 1
        for end in range(start, len(lines)):
            if lines[end].strip() == "```":
                break
        else:
            raise LessonFormatError(f"the ```{fence.group(1)} block is never closed", i + 1)
        data = _toml("\n".join(lines[start:end]), start + 1, f"the {fence.group(1)} block")
        if fence.group(1) == "lab":
            if lab is not None:
                raise LessonFormatError("a lesson has at most one lab block", i + 1)
            name = data.pop("name", None)
            if not isinstance(name, str):
                raise LessonFormatError("the lab block needs name = \"<lab>\"", i + 1)
            try:
                lab = LabBlock(name, validate_lab(name, data))
            except ParamError as exc:
                raise LessonFormatError(str(exc), i + 1) from None
        else:
            quiz = _quiz(data, len(quiz_ids) + 1, i + 1)
            if quiz.id in quiz_ids:
                raise LessonFormatError(f"two quizzes have the id {quiz.id!r}", i + 1)
            quiz_ids.add(quiz.id)
            if "".join(prose).strip():
                parts.append("\n".join(prose).strip("\n"))
            prose = []
            parts.append(quiz)
        i = end + 1
    if "".join(prose).strip():
        parts.append("\n".join(prose).strip("\n"))
    if not any(isinstance(p, str) for p in parts):
        raise LessonFormatError("the lesson has no text", 1)
    return Lesson(
        id=meta["id"],
        title=meta["title"].strip(),
        chapter=meta["chapter"],
        order=meta["order"],
        sections=tuple(meta["sections"]),
        parts=tuple(parts),
        lab=lab,
        source=source,
    )


_RELATION = re.compile(r"[=≤≥≈←∝≠]")
_PROSE_WORD = re.compile(r"(?<![\w`])[A-Za-z]{3,}(?![\w`(])")
_MATH_WORDS = {"softmax", "relu", "tanh", "log", "exp", "max", "min", "argmax", "sign", "diag",
               "var", "mean", "sigmoid", "for", "and", "sum", "std", "norm", "mod"}


def _is_formula_line(line: str) -> bool:
    """A paragraph line that is a formula: a relation (=, ≤, ←, ...) and at most one word of
    prose (code spans and function names such as exp or softmax do not count)."""
    s = line.strip()
    if not s or s.startswith(("#", "|", "- ", "* ", "+ ", ">")) or re.match(r"\d+[.)] ", s):
        return False
    s = re.sub(r"`[^`]*`", "", s)
    if not _RELATION.search(s):
        return False
    words = [w for w in _PROSE_WORD.findall(s) if w.lower() not in _MATH_WORDS]
    return len(words) <= 1


def joined_formulas(text: str) -> list[int]:
    """1-based lines of a lesson file holding a formula right under another formula line of
    the same paragraph: Markdown joins the two into one line ("vₜ₊₁ = γ vₜ + η ∇ℒ θₜ₊₁ = θₜ −
    vₜ₊₁"). Formulas need a blank line between them (or an indented block, kept verbatim).
    The front matter, fenced blocks and indented code blocks are skipped."""
    lines = text.splitlines()
    found: list[int] = []
    fenced = False
    front = 0
    if lines and lines[0].strip() == "+++":
        front = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), len(lines))
    for i in range(front + 1, len(lines)):
        line, above = lines[i], lines[i - 1]
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or above.lstrip().startswith("```") or i - 1 <= front:
            continue
        if line.startswith(("    ", "\t")) or above.startswith(("    ", "\t")):
            continue  # an indented code block keeps its lines
        if above.endswith(("  ", "\\")):
            continue  # a Markdown hard line break
        if _is_formula_line(line) and _is_formula_line(above):
            found.append(i + 1)
    return found


def _chapter_titles() -> dict[int, str]:
    data = tomllib.loads(resources.files("lessons").joinpath("chapters.toml").read_text("utf-8"))
    return {c["number"]: c["title"] for c in data["chapter"]}


def _lesson_sources(extra_dirs: list[Path]) -> list[tuple[str, object]]:
    root = resources.files("lessons")
    found = [(f"lessons/{p.name}", p) for p in root.iterdir() if p.name.endswith(".md")]
    for folder in extra_dirs:
        found += [(str(p), p) for p in Path(folder).glob("*.md")]
    return sorted(found, key=lambda item: item[0])


def _cache_path() -> Path:
    """The parsed-lessons cache: beside the progress when `DL_TUTOR_DATA_DIR` is set (tests, a
    teacher's sandbox), else in the platform's user cache folder."""
    override = os.environ.get("DL_TUTOR_DATA_DIR")
    if override:
        return Path(override) / "cache" / "lessons.pickle"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dl-tutor", appauthor=False)) / "lessons.pickle"


def _code_stamp() -> tuple:
    """What a parsed lesson also depends on: this parser and the labs' parameter tables."""
    here = Path(__file__).resolve().parent
    files = [Path(__file__), here / "labs" / "__init__.py", here / "labs" / "params.py",
             *sorted((here / "labs").glob("*/params.py"))]
    stamp = [sys.version_info[:2]]
    for file in files:
        try:
            st = file.stat()
            stamp.append((file.name, file.parent.name, st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append((file.name, None))
    return tuple(stamp)


class _ParsedLessons:
    """Lessons parsed before, by the digest of their file's bytes (a warm start parses none:
    84 lessons took ~100 ms of TOML and checks, a third of the time to the first paint).

    A cache only: unreadable, stale or foreign content is ignored and rewritten."""

    def __init__(self) -> None:
        self.path = _cache_path()
        self.stamp = _code_stamp()
        self.known: dict[str, Lesson] = {}
        self.used: dict[str, Lesson] = {}
        try:
            with open(self.path, "rb") as f:
                stamp, known = pickle.load(f)
            if stamp == self.stamp and isinstance(known, dict):
                self.known = known
        except Exception:  # no cache yet, or a damaged one: parse
            pass

    def get(self, raw: bytes, source: str) -> Lesson:
        key = hashlib.blake2b(source.encode() + b"\0" + raw, digest_size=20).hexdigest()
        lesson = self.known.get(key)
        if not isinstance(lesson, Lesson):
            lesson = parse_lesson(raw.decode("utf-8"), source)
        self.used[key] = lesson
        return lesson

    def save(self) -> None:
        if self.used.keys() == self.known.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                pickle.dump((self.stamp, self.used), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except Exception:  # a read-only or full disk: the next start parses again
            pass


def load_catalog(extra_dirs: list[Path] | None = None) -> Catalog:
    """Every lesson shipped in `lessons/` (plus `extra_dirs`), validated and ordered."""
    titles = _chapter_titles()
    chapters = {n: Chapter(n, t) for n, t in sorted(titles.items())}
    errors: list[LessonError] = []
    seen: dict[str, str] = {}
    parsed = _ParsedLessons()
    for source, path in _lesson_sources(extra_dirs or []):
        try:
            raw = path.read_bytes()
            if len(raw) > MAX_LESSON_BYTES:
                raise LessonFormatError(f"the file is larger than {MAX_LESSON_BYTES} bytes", 1)
            lesson = parsed.get(raw, source)
            if lesson.chapter not in chapters:
                raise LessonFormatError(
                    f"chapter {lesson.chapter} is not in lessons/chapters.toml", 1
                )
            if lesson.id in seen:
                raise LessonFormatError(f"duplicate id {lesson.id!r} (also in {seen[lesson.id]})", 1)
        except LessonFormatError as exc:
            errors.append(LessonError(source, exc.line, str(exc)))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(LessonError(source, 1, f"cannot read the file: {exc}"))
            continue
        seen[lesson.id] = source
        chapters[lesson.chapter].lessons.append(lesson)
    parsed.save()
    for ch in chapters.values():
        ch.lessons.sort(key=lambda x: (x.order, x.id))
    return Catalog([c for c in chapters.values() if c.lessons], errors)


def print_catalog(extra_dirs: list[Path] | None = None) -> int:
    """Print every lesson (with its lab and quiz count) and every error; 1 if any error."""
    catalog = load_catalog(extra_dirs)
    for ch in catalog.chapters:
        print(f"{ch.number}. {ch.title}")
        for lesson in ch.lessons:
            lab = f"  [lab: {lesson.lab.name}]" if lesson.lab else ""
            print(f"   {lesson.id:34s} {lesson.title}{lab} ({len(lesson.quizzes)} quizzes)")
    joined = []
    for source, path in _lesson_sources(extra_dirs or []):
        try:
            lines = joined_formulas(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue  # reported by load_catalog
        joined += [f"{source}:{n}: a formula right under another one; Markdown joins them "
                   "into one line: leave a blank line between them" for n in lines]
    for err in catalog.errors:
        print(f"error: {err}", file=sys.stderr)
    for err in joined:
        print(f"error: {err}", file=sys.stderr)
    print(f"{len(catalog.lessons)} lessons, {len(catalog.errors) + len(joined)} errors")
    return 1 if catalog.errors or joined else 0


def main() -> int:
    """For lesson authors: `python -m tutor.content [DIR ...]` checks every lesson file."""
    return print_catalog([Path(p) for p in sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
