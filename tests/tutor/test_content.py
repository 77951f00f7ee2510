"""The lesson parser: good files parse, every kind of bad file gets a message with its line."""

from __future__ import annotations

import pytest

from tutor.content import LessonFormatError, Quiz, load_catalog, parse_lesson

GOOD = """+++
id = "demo"
title = "Demo"
chapter = 2
order = 1
sections = ["2.4.1"]
+++

Some text.

```quiz
question = "2 + 2?"
answer = 4
tolerance = 0.1
hint = "count"
explanation = "four"
```

More text.

```quiz
question = "Pick b"
choices = ["a", "b"]
correct = 1
```
"""


def test_good_lesson_parses_in_reading_order():
    lesson = parse_lesson(GOOD, "demo.md")
    assert (lesson.id, lesson.title, lesson.chapter, lesson.order) == ("demo", "Demo", 2, 1)
    assert lesson.sections == ("2.4.1",)
    kinds = [type(p).__name__ for p in lesson.parts]
    assert kinds == ["str", "Quiz", "str", "Quiz"]
    assert [q.id for q in lesson.quizzes] == ["q1", "q2"]
    assert lesson.lab is None
    assert "Some text." in lesson.text and "More text." in lesson.text


def test_numeric_quiz_checks_with_tolerance_and_unreadable_answers():
    quiz = Quiz(id="q", question="?", answer=-4.0, tolerance=0.01)
    assert quiz.check("-4.005")[0] is True
    assert quiz.check("−4")[0] is True  # a typographic minus is accepted
    assert quiz.check("4")[0] is False
    ok, message = quiz.check("minus four")
    assert ok is None and "not a number" in message
    assert quiz.check("inf")[0] is None


def test_choice_quiz_checks_index():
    quiz = Quiz(id="q", question="?", choices=("a", "b"), correct=1)
    assert quiz.check(1)[0] is True
    assert quiz.check(0) == (False, "Not quite: the answer is “b”.")
    assert quiz.check(5)[0] is None
    assert quiz.check("none")[0] is None


def _with(front_extra="", body=""):
    return (
        '+++\nid = "x"\ntitle = "X"\nchapter = 1\norder = 1\nsections = []\n'
        + front_extra
        + "+++\n\ntext\n"
        + body
    )


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("no front matter", 1, "must start with a +++"),
        ("+++\nid = 'x'\n", 1, "not closed"),
        ('+++\nid = "x"\ntitle = \n+++\n', 3, "malformed TOML in the front matter"),
        ('+++\nid = "x"\n+++\ntext', 1, "needs 'title'"),
        (_with('colour = "red"\n'), 1, "unknown front-matter key"),
        (_with(body="\n```lab\nname = \"no-such-lab\"\n```\n"), 11, "there is no lab"),
        (_with(body="\n```lab\npreset = 1\n```\n"), 11, 'needs name = "<lab>"'),
        (_with(body="\n```quiz\nquestion = \"q\"\n"), 11, "never closed"),
        (_with(body="\n```quiz\nquestion = \"q\"\n```\n"), 11, "numeric 'answer'"),
        (_with(body="\n```quiz\nquestion = \"q\"\nchoices = [\"a\", \"b\"]\ncorrect = 2\n```\n"), 11, "not an index"),
        (_with(body="\n```quiz\nquestion = \"q\"\nanswer = 1\nwhat = 2\n```\n"), 11, "unknown key 'what'"),
        (_with(body="\n```quiz\nquestion = \"q\"\nanswer = 1\nanswer = 2\n```\n"), 14, "malformed TOML in the quiz block"),
        (_with(body="\n```quiz\nid = \"a\"\nquestion = \"q\"\nanswer = 1\n```\n```quiz\nid = \"a\"\nquestion = \"q\"\nanswer = 1\n```\n"), 16, "two quizzes"),
    ],
)
def test_bad_lessons_name_the_line(text, line, fragment):
    with pytest.raises(LessonFormatError) as info:
        parse_lesson(text)
    assert fragment in str(info.value)
    assert info.value.line == line


def test_bad_id_is_rejected():
    with pytest.raises(LessonFormatError, match="lowercase"):
        parse_lesson(_with().replace('id = "x"', 'id = "Has Spaces"'))


def test_broken_file_becomes_an_error_entry_and_the_rest_still_load(tmp_path):
    shipped = load_catalog()
    (tmp_path / "a_good.md").write_text(GOOD.replace('id = "demo"', 'id = "extra-good"'))
    (tmp_path / "bad.md").write_text("+++\nid = 'oops'\n")
    (tmp_path / "z_dup.md").write_text(GOOD.replace('id = "demo"', 'id = "extra-good"'))
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "unknown-chapter.md").write_text(GOOD.replace("chapter = 2", "chapter = 42").replace('"demo"', '"c42"'))
    catalog = load_catalog([tmp_path])
    assert len(catalog.lessons) == len(shipped.lessons) + 1
    assert catalog.get("extra-good") is not None
    messages = {err.source.rsplit("/", 1)[-1]: err.message for err in catalog.errors}
    assert set(messages) == {"bad.md", "z_dup.md", "binary.md", "unknown-chapter.md"}
    assert "duplicate id" in messages["z_dup.md"]
    assert "cannot read" in messages["binary.md"]
    assert "chapter 42" in messages["unknown-chapter.md"]


def test_catalog_order_and_neighbours():
    catalog = load_catalog()
    numbers = [ch.number for ch in catalog.chapters]
    assert numbers == sorted(numbers)
    first, second = catalog.lessons[0], catalog.lessons[1]
    assert catalog.neighbour(first.id, +1) is second
    assert catalog.neighbour(first.id, -1) is None
    assert catalog.neighbour(catalog.lessons[-1].id, +1) is None
    assert catalog.neighbour("no-such-lesson", 1) is None


def test_a_warm_start_parses_no_lesson_and_an_edited_file_is_parsed_again(tmp_path, monkeypatch):
    import tutor.content as content

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "mine.md").write_text(GOOD.replace('id = "demo"', 'id = "mine"'))
    first = load_catalog([extra])
    parsed: list[str] = []
    real = content.parse_lesson
    monkeypatch.setattr(content, "parse_lesson", lambda text, source: parsed.append(source) or real(text, source))
    again = load_catalog([extra])
    assert parsed == [] and again.lessons == first.lessons  # all from the cache, the same lessons
    (extra / "mine.md").write_text(GOOD.replace('id = "demo"', 'id = "mine"').replace("Demo", "Edited"))
    edited = load_catalog([extra])
    assert parsed == [str(extra / "mine.md")]
    assert edited.get("mine") != first.get("mine")
    content._cache_path().write_bytes(b"not a pickle")  # a damaged cache: parsed again, no error
    assert load_catalog([extra]).lessons == edited.lessons and len(parsed) > 80
