"""Recurrent networks (chapter 5): RNN, LSTM and GRU unrolled over time, BPTT, memory and text tasks."""

from core.recurrent.cells import (ACTIVATIONS, CELLS, GATES, PARAM_NAMES, Gradients, Unrolled,
                                  bptt, init_weights, recurrent_matrix, unroll)
from core.recurrent.corpus import PETER_RABBIT, SOURCE
from core.recurrent.net import (Checkpoint, RecurrentNet, StepInfo, Trainer, clip_grad_norm,
                                log_softmax, open_gate)
from core.recurrent.tasks import CharCorpus, one_hot, recall_batch, sample

__all__ = ["ACTIVATIONS", "CELLS", "GATES", "PARAM_NAMES", "Gradients", "Unrolled", "bptt",
           "init_weights", "recurrent_matrix", "unroll", "PETER_RABBIT", "SOURCE", "Checkpoint",
           "RecurrentNet", "StepInfo", "Trainer", "clip_grad_norm", "log_softmax", "open_gate",
           "CharCorpus", "one_hot", "recall_batch", "sample"]
