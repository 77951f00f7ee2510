"""The optimizer lab: optimizers race on a loss surface (notes 2.2, 3.3-3.6)."""
