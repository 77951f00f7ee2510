"""No lesson writes two formulas on adjacent lines: Markdown would join them into one line
("vₜ₊₁ = γ vₜ + η ∇ℒ(θₜ) θₜ₊₁ = θₜ − vₜ₊₁"). Runs over every lesson file of every chapter."""

from __future__ import annotations

from importlib import resources

import pytest

from tutor.content import joined_formulas

FILES = sorted(p.name for p in resources.files("lessons").iterdir() if p.name.endswith(".md"))


@pytest.mark.parametrize("name", FILES)
def test_no_formulas_joined_into_one_paragraph(name):
    text = resources.files("lessons").joinpath(name).read_text("utf-8")
    assert joined_formulas(text) == [], f"{name}: put a blank line between these formulas"


def test_the_check_catches_adjacent_formulas_and_spares_prose_and_blocks():
    head = "+++\nid = \"x\"\n+++\n\n"
    joined = head + "Keep a velocity:\n\nvₜ₊₁ = γ vₜ + η ∇ℒ(θₜ)\nθₜ₊₁ = θₜ − vₜ₊₁\n\nwith γ = 0.9.\n"
    assert joined_formulas(joined) == [8]
    apart = joined.replace("η ∇ℒ(θₜ)\n", "η ∇ℒ(θₜ)\n\n")
    assert joined_formulas(apart) == []
    prose = head + "With η = 0.1 the loss falls; with η = 1 it\ndiverges, since ρ = 1 − ημ < −1 here.\n"
    assert joined_formulas(prose) == []
    indented = head + "    a₀ = x\n    aₗ = σ(Wₗ aₗ₋₁ + bₗ)\n"
    assert joined_formulas(indented) == []
    fenced = head + "```quiz\nquestion = \"a\"\nanswer = 1\n```\n"
    assert joined_formulas(fenced) == []
    hard_break = head + "a = 1  \nb = 2\n"
    assert joined_formulas(hard_break) == []
