"""The lab's tiny transformer rebuilt from core.tensor modules (Embedding, MultiheadAttention,
LayerNorm, Linear, F.cross_entropy) with the same weights: autodiff's gradients check the lab's
hand-written backward, and the benchmark times both (plain Python; imports core.tensor)."""

from __future__ import annotations

import numpy as np

from core.tensor import functional as F
from core.tensor import nn
from core.tensor import tensor
from tutor.labs.attention.transformer import TinyTransformer


class TensorTransformer(nn.Module):
    """The same equations as `TinyTransformer`, with core.tensor's modules and autodiff."""

    def __init__(self, lab: TinyTransformer) -> None:
        D, F_, V = lab.d, lab.d_ff, lab.vocab
        self.lab = lab
        self.embed = nn.Embedding(V, D)
        self.blocks = []
        for _ in range(lab.n_layers):
            block = {"norm1": nn.LayerNorm(D), "self_attn": nn.MultiheadAttention(D, lab.h),
                     "norm2": nn.LayerNorm(D), "linear1": nn.Linear(D, F_), "linear2": nn.Linear(F_, D)}
            self.blocks.append(block)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, lab.n_out)
        self.pe = nn.positional_encoding(lab.pe.shape[0], D).data
        self.load_from_lab()

    def named(self) -> dict:
        """{lab parameter name: core.tensor parameter}."""
        out = {"embed.weight": self.embed.weight, "norm.weight": self.norm.weight,
               "norm.bias": self.norm.bias, "head.weight": self.head.weight, "head.bias": self.head.bias}
        for l, block in enumerate(self.blocks):
            for module_name, module in block.items():
                for name, p in module.named_parameters():
                    out[f"layers.{l}.{module_name}.{name}"] = p
        return out

    def load_from_lab(self) -> None:
        for name, p in self.named().items():
            p.data[...] = self.lab.params[name]

    def forward(self, tokens: np.ndarray, causal: bool = False):
        T = tokens.shape[1]
        x = self.embed(tokens) + tensor(self.pe[:T])
        blocked = ~np.tril(np.ones((T, T), dtype=bool)) if causal else None  # MHA: True = masked
        for block in self.blocks:
            h = block["norm1"](x)
            a, _ = block["self_attn"](h, h, h, attn_mask=blocked, need_weights=False)
            x = x + a
            h = block["norm2"](x)
            x = x + block["linear2"](F.relu(block["linear1"](h)))
        return self.head(self.norm(x))

    def loss_and_grads(self, tokens, targets, causal: bool = False):
        """Mean cross-entropy and {name: gradient}, by core.tensor's autodiff."""
        named = self.named()
        for p in named.values():
            p.grad = None
        logits = self.forward(tokens, causal)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        loss.backward()
        return float(loss.data), {name: p.grad for name, p in named.items()}
