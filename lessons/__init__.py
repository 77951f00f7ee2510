"""Lesson content: one Markdown file per lesson, read through importlib.resources."""
