"""Every shipped lesson file parses, validates its lab block, and has sound quizzes."""

from __future__ import annotations

from importlib import resources

import pytest

from tutor.content import load_catalog, parse_lesson

FILES = sorted(p.name for p in resources.files("lessons").iterdir() if p.name.endswith(".md"))


@pytest.mark.parametrize("name", FILES)
def test_lesson_file_is_valid(name):
    text = resources.files("lessons").joinpath(name).read_text("utf-8")
    lesson = parse_lesson(text, name)
    assert lesson.title and lesson.text.strip()
    assert name.startswith(f"ch{lesson.chapter}_"), "file names start with their chapter"
    assert "$" not in lesson.text.replace("$ ", ""), "formulas are Unicode, not LaTeX"
    for quiz in lesson.quizzes:
        assert quiz.explanation, f"quiz {quiz.id} of {name} needs an explanation"
        if quiz.is_choice:
            assert quiz.check(quiz.correct)[0] is True
        else:
            assert quiz.check(repr(quiz.answer))[0] is True


def test_the_shipped_catalog_has_no_errors_and_unique_ids():
    catalog = load_catalog()
    assert catalog.errors == []
    ids = [lesson.id for lesson in catalog.lessons]
    assert len(ids) == len(set(ids)) == len(FILES)
