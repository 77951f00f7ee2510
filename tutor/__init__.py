"""dl-tutor's terminal app (Textual): catalog, lessons, labs."""

__version__ = "0.1.0"
