"""Catch the answers a lab posts to its lesson, for predict-first tests."""

from __future__ import annotations


def spy_answers(lab, record) -> None:
    """Call `record(message)` for every `Lab.Answered` the lab posts (still posted)."""
    from tutor.labs.base import Lab

    post = lab.post_message

    def spy(message):
        if isinstance(message, Lab.Answered):
            record(message)
        return post(message)

    lab.post_message = spy
