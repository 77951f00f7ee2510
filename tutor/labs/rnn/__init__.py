"""The recurrent networks lab (chapter 5): unrolling, BPTT, LSTM and GRU, memory, text, padding."""
