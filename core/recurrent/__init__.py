"""Recurrent networks (chapter 5): RNN, LSTM and GRU unrolled over time, BPTT, memory and text tasks."""

from core.recurrent.cells import (ACTIVATIONS, CELLS, GATES, PARAM_NAMES, Gradients, Unrolled,
                                  bptt, init_weights, recurrent_matrix, unroll)

__all__ = ["ACTIVATIONS", "CELLS", "GATES", "PARAM_NAMES", "Gradients", "Unrolled", "bptt",
           "init_weights", "recurrent_matrix", "unroll"]
