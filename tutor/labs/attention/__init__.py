"""The attention lab: one attention step by step, √d, positional encodings, a tiny transformer."""
