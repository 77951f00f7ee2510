"""Every number the chapter 6 lessons quote from the attention lab, computed from the lab's
own model at the lessons' settings; and every lesson's lab block builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tutor.content import load_catalog
from tutor.labs import validate_lab
from tutor.labs.attention import corpus
from tutor.labs.attention.model import AttentionModel

LESSONS = Path(__file__).parents[3] / "lessons"


def model(**params) -> AttentionModel:
    return AttentionModel(validate_lab("attention", params))


def text(name: str) -> str:
    return (LESSONS / name).read_text("utf-8")


def chapter6():
    return [lesson for lesson in load_catalog().lessons if lesson.chapter == 6]


def test_every_lesson_lab_block_builds_and_the_first_says_the_numbering_is_ours():
    lessons = chapter6()
    assert len(lessons) == 9
    for lesson in lessons:
        assert lesson.lab is not None and lesson.lab.name == "attention"
        AttentionModel(validate_lab("attention", lesson.lab.params))
    first = text("ch6_01_from_rnns_to_attention.md")
    assert "title only" in first and "are dl-tutor's" in first


def test_6_2_row_sat_gives_its_largest_weight_to_cat():
    a = model().view.att
    assert a.words[2] == "sat" and a.words[int(np.argmax(a.A[2]))] == "cat"
    assert f"{a.A[2].max():.2f}" == "0.29"
    assert "its largest weight, 0.29, to 'cat'" in text("ch6_02_scaled_dot_product_attention.md")


def test_6_3_saturation_at_d_64():
    m = model(view="scaling")
    m.advance(6)
    s = m.view.stats[6]
    assert m.view.d == 64
    assert (f"{s['max_raw']:.2f}", f"{s['max_scaled']:.2f}") == ("0.88", "0.37")
    assert "puts 0.88 on its largest key on average, the scaled one\n0.37" in text("ch6_03_why_sqrt_d.md")
    p = np.exp(10) / (1 + np.exp(10))
    assert p * (1 - p) == pytest.approx(0.0000454, abs=2e-6)


def test_6_4_causal_mask_counts():
    a = model(causal=True).view.att
    assert int((~a.mask).sum()) == 15 and a.A[0, 0] == 1.0
    assert "15 scores are set to −∞" in text("ch6_04_self_attention_and_masks.md")


def test_6_5_reverse_heads_by_step_200_and_replay():
    m = model(view="train", task="reverse")
    assert m.params["chunk"] == 5 and m.view.net.n_parameters == 17802
    m.advance(40)
    s = m.view.state
    assert s.step == 200
    assert f"{s.accuracy:.1%}" == "99.5%"
    assert s.alignment[1].min() > 0.9 and s.alignment[0].max() < 0.5  # second block copies
    assert m.back() and m.step() and m.view.state is s  # replayed, not recomputed
    lesson = text("ch6_05_multi_head_attention.md")
    assert "by step 200 the held-out digits are 99.5% right" in lesson
    assert "each\nstep of the lab is 5 Adam steps" in lesson


def test_6_5_and_6_7_parameter_counts():
    one = model(view="train", layers=1).view.net
    embed, head, final_ln = 10 * 32, 32 * 10 + 10, 2 * 32
    block = one.n_parameters - embed - head - final_ln
    assert block == 8544
    attention = sum(v.size for k, v in one.params.items() if "self_attn" in k)
    assert attention == 4224
    assert "17,802 parameters" in text("ch6_07_transformer_block.md")


def test_6_6_norm_of_an_encoding():
    m = model(view="positions")
    assert m.view.dim == 32 and np.allclose(np.diag(m.view.similarity), 16.0)
    assert "(16 for d = 32)" in text("ch6_06_positional_encodings.md")


def test_6_8_the_character_model_settings():
    m = model(view="lm", batch=16)
    assert len(corpus.CHARS) == 54 and m.params["context"] == 24 and m.params["temperature"] == 0.8
    assert len(m.view.state.prediction) == len("Alice ") + 48
    assert (m.params["layers"], m.params["heads"], m.params["d_model_train"]) == (2, 2, 32)
    lesson = text("ch6_08_decoder_language_model.md")
    assert "54 distinct\ncharacters" in lesson and "samples 48 characters" in lesson
    assert m.view.example.size == 16 and "The maps show the first 16 characters" in lesson
    assert np.log(54) == pytest.approx(3.989, abs=0.01)


def test_6_9_eight_words():
    m = AttentionModel(validate_lab("attention", next(
        lesson.lab.params for lesson in chapter6() if lesson.id == "attention-cost")))
    assert len(m.view.words) == 8 and m.view.att.S.size == 64
