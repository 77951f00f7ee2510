"""The PyTorch version of the lab's transformer: nn.TransformerEncoderLayer blocks with the same
sizes, pre-LayerNorm, no dropout, Adam, and the same task."""

from __future__ import annotations

from tutor.labs.attention import corpus


def transformer_code(params: dict, kind: str) -> str:
    p = params
    d, h, n = p["d_model_train"], p["heads"], p["layers"]
    if kind == "lm":
        vocab, t, causal = len(corpus.CHARS), p["context"], True
        data = [
            "from tutor.labs.attention.corpus import TEXT as text   # Alice in Wonderland, ch. I (public domain)",
            "chars = sorted(set(text)); ids = torch.tensor([chars.index(c) for c in text])",
            "def batch():",
            f"    s = torch.randint(0, len(ids) - {t} - 1, ({p['batch']},))",
            f"    idx = s[:, None] + torch.arange({t})",
            "    return ids[idx], ids[idx + 1]            # predict the next character",
        ]
    else:
        vocab, t, causal = 10, p["seq_len"], p["task"] == "copy"
        target = {"reverse": "x.flip(1)", "sort": "x.sort(1).values", "copy": "x"}[p["task"]]
        data = [
            "def batch():",
            f"    x = torch.randint(0, 10, ({p['batch']}, {t}))",
            f"    return x, {target}                     # the {p['task']} task",
        ]
    mask = f"nn.Transformer.generate_square_subsequent_mask({t})" if causal else "None"
    lines = [
        "import math",
        "import torch",
        "import torch.nn as nn",
        "",
        f"torch.manual_seed({p['seed']})",
        "",
        "class TinyTransformer(nn.Module):",
        f"    def __init__(self, vocab={vocab}, d={d}, heads={h}, layers={n}, max_len={max(t, 8)}):",
        "        super().__init__()",
        "        self.embed = nn.Embedding(vocab, d)",
        "        pos = torch.arange(max_len)[:, None]",
        "        div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))",
        "        pe = torch.zeros(max_len, d)",
        "        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)",
        "        self.register_buffer('pe', pe)              # sinusoidal positional encoding",
        "        self.layers = nn.ModuleList(",
        "            nn.TransformerEncoderLayer(d, heads, dim_feedforward=2 * d, dropout=0.0,",
        "                                       batch_first=True, norm_first=True)",
        "            for _ in range(layers))",
        "        self.norm = nn.LayerNorm(d)",
        "        self.head = nn.Linear(d, vocab)",
        "",
        "    def forward(self, tokens, mask=None):",
        "        x = self.embed(tokens) + self.pe[: tokens.shape[1]]",
        "        for layer in self.layers:                    # x + MHA(LN(x)), x + MLP(LN(x))",
        "            x = layer(x, src_mask=mask)",
        "        return self.head(self.norm(x))",
        "",
        *data,
        "",
        "model = TinyTransformer()",
        f"mask = {mask}",
        f"optimizer = torch.optim.Adam(model.parameters(), lr={p['lr']:g})",
        "for step in range(2000):",
        "    x, y = batch()",
        "    logits = model(x, mask)",
        "    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))",
        "    optimizer.zero_grad()",
        "    loss.backward()",
        "    optimizer.step()",
        "",
        "# the attention weights of the first block, per head (need_weights, not averaged):",
        "blk = model.layers[0]",
        "h = blk.norm1(model.embed(x[:1]) + model.pe[: x.shape[1]])",
        "_, weights = blk.self_attn(h, h, h, attn_mask=mask, average_attn_weights=False)",
        "print(loss.item(), weights.shape)               # (1, heads, T, T)",
    ]
    return "\n".join(lines) + "\n"
