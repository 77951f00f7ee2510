"""The backprop lab: a computational graph, stepped forward and backward one node at a time."""
