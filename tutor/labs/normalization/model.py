"""The normalization lab's state (no Textual): a conv layer's output batch, normalized three ways.

Each step draws a new training batch from the same distribution; in train mode a `BatchNorm`
updates its running statistics from it, so stepping shows them converging. The batch is the
output of a 3 x 3 convolution, so BatchNorm can be folded into that convolution and the two
compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vision import BatchNorm, batch_norm, conv2d, instance_norm, layer_norm, norm_statistics
from tutor.history import History, HistoryModel

C_IN = 2


@dataclass(frozen=True)
class NormState:
    """One step: the batch's input z, the conv output x, and BatchNorm's running statistics."""

    step: int
    z: np.ndarray
    running_mean: np.ndarray
    running_var: np.ndarray


#: Settings a change of which keeps the batches, the running statistics and the lit group.
KEPT_BY = ("mode", "fold")


class NormModel(HistoryModel):
    """Everything the normalization lab shows; `params` are its validated parameters.

    Its history steps through training batches (`HistoryModel`: step, back, reset, advance);
    `group` is the lit group (`next_group` moves it)."""

    def __init__(self, params: dict) -> None:
        self._build(params)

    def _build(self, params: dict) -> None:
        """Everything from `params` (ValueError before anything changes)."""
        p = dict(params)
        n, c, h, w = (int(p[k]) for k in "nchw")
        if p["kind"] == "instance" and h * w < 2:
            raise ValueError("instance norm needs at least 2 pixels per map (H·W ≥ 2)")
        self.params = p
        self.shape = (n, c, h, w)
        rng = np.random.default_rng(int(p["seed"]))
        # A fixed conv layer whose output channels have clearly different means and spreads.
        self.w = rng.normal(0, 1, size=(c, C_IN, 3, 3)) * rng.uniform(0.2, 1.0, size=(c, 1, 1, 1))
        self.b = rng.uniform(-3, 3, size=c)
        self.gamma = np.ones(c)
        self.beta = np.zeros(c)
        self.group = 0
        first = NormState(0, self._batch(0), np.zeros(c), np.ones(c))
        self.history: History[NormState] = History(first, self._next, max_len=10_000)

    def apply(self, name: str, value) -> str | None:
        """Change one setting: None when applied, else why not (the model unchanged).

        "mode" and "fold" keep the batches, the running statistics and the lit group (a new
        mode from the batch shown on: later batches are computed again); any other setting
        builds the model again from batch 0."""
        if name not in self.params:
            return f"unknown setting {name!r}"
        new = {**self.params, name: value}
        try:
            if name in KEPT_BY:
                new = NormModel(new).params  # checked as a whole; the batches are kept
            else:
                self._build(new)
                return None
        except ValueError as exc:
            return str(exc)
        self.params.update(new)
        if name == "mode":  # later batches were computed in the old mode
            self.history.replace_future(self.state)
        return None

    def next_group(self) -> None:
        """Light the next group normalized together."""
        self.group = (self.group + 1) % len(self.groups())

    # --- batches and steps ---------------------------------------------------------------
    def _batch(self, step: int) -> np.ndarray:
        n, _, h, w = self.shape
        rng = np.random.default_rng((int(self.params["seed"]), step))
        return rng.normal(0.5, 1.0, size=(n, C_IN, h + 2, w + 2))

    def _bn(self, s: NormState) -> BatchNorm:
        bn = BatchNorm(self.shape[1], eps=float(self.params["eps"]), momentum=float(self.params["momentum"]))
        bn.gamma, bn.beta = self.gamma.copy(), self.beta.copy()
        bn.running_mean, bn.running_var = s.running_mean.copy(), s.running_var.copy()
        return bn

    def _next(self, s: NormState) -> NormState:
        """Train on the current batch (updating running statistics), then draw the next one."""
        bn = self._bn(s)
        if self.params["mode"] == "train":
            bn.train()(self.x(s))
        return NormState(s.step + 1, self._batch(s.step + 1), bn.running_mean, bn.running_var)

    @property
    def state(self) -> NormState:
        return self.history.current

    @property
    def index(self) -> int:
        """The batch shown (0: the first)."""
        return self.history.index

    def status(self) -> str:
        return f"batch {self.state.step}"

    def x(self, s: NormState | None = None) -> np.ndarray:
        """The batch being normalized: conv2d(z, w, b), shape N x C x H x W."""
        s = self.state if s is None else s
        return conv2d(s.z, self.w, self.b)

    def population(self) -> tuple[np.ndarray, np.ndarray]:
        """The true mean and variance of each channel of x over all possible batches: the inputs
        are independent N(0.5, 1), so conv2d gives b + 0.5·Σw and Σw² (what the running
        statistics approach)."""
        return self.b + 0.5 * self.w.sum(axis=(1, 2, 3)), (self.w**2).sum(axis=(1, 2, 3))

    # --- what is shown -------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.params["kind"]

    def output(self) -> np.ndarray:
        """The normalized batch (eval-mode batch norm uses the running statistics)."""
        x, eps = self.x(), float(self.params["eps"])
        if self.kind == "batch":
            if self.params["mode"] == "eval":
                return self._bn(self.state).eval()(x)
            return batch_norm(x, self.gamma, self.beta, eps)
        if self.kind == "layer":
            return layer_norm(x, np.ones(x.shape[1:]), np.zeros(x.shape[1:]), eps)
        return instance_norm(x, self.gamma, self.beta, eps)

    def groups(self) -> list[tuple[str, float, float]]:
        """(label, μ, σ²) of every group normalized together (biased variance)."""
        mean, var = norm_statistics(self.kind, self.x(), float(self.params["eps"]))
        if self.kind == "batch":
            return [(f"c{c}", mean[c], var[c]) for c in range(len(mean))]
        if self.kind == "layer":
            return [(f"n{n}", mean[n], var[n]) for n in range(len(mean))]
        return [(f"n{n} c{c}", mean[n, c], var[n, c]) for n in range(mean.shape[0]) for c in range(mean.shape[1])]

    def group_mask(self) -> np.ndarray:
        """A boolean N x C x H x W mask of the selected group's cells."""
        n, c, h, w = self.shape
        mask = np.zeros(self.shape, dtype=bool)
        g = self.group % len(self.groups())
        if self.kind == "batch":
            mask[:, g] = True
        elif self.kind == "layer":
            mask[g] = True
        else:
            mask[g // c, g % c] = True
        return mask

    def question(self) -> tuple[str, str, float, float, str]:
        """The prediction asked before the first batch: (key, prompt, answer, tolerance,
        explanation).

        batch norm, train: channel c0's running μ after n (momentum · the batch's μ, from 0);
        batch norm, eval: the same, which does not move (eval never updates it);
        layer and instance norm: the mean of y over the lit group (0 by construction).
        """
        if self.kind == "batch":
            mu = self.groups()[0][1]
            m = float(self.params["momentum"])
            nxt = self._next(self.state).running_mean[0]
            if self.params["mode"] == "train":
                why = f"{1 - m:g} · 0 + {m:g} · ({mu:.3f}): a running mean starts slow."
            else:
                why = "eval mode reads the running statistics and never updates them."
            return ("running-mean", "Predict: channel c0's running μ after n (one more batch)?",
                    float(nxt), 0.01 + 0.02 * abs(float(nxt)), why)
        return ("group-mean", f"Predict: the mean of y over the lit group ({self.reduced()})?",
                0.0, 0.01, "Each group is shifted by its own μ and scaled by 1/σ: mean 0, variance 1.")

    def reduced(self) -> str:
        return {"batch": "N, H, W", "layer": "C, H, W", "instance": "H, W"}[self.kind]

    def fold_check(self) -> tuple[float, np.ndarray, np.ndarray]:
        """max |conv(z, w′, b′) − BN_eval(conv(z, w, b))| and the folded (w′, b′)."""
        bn = self._bn(self.state).eval()
        wf, bf = bn.fold(self.w, self.b)
        folded = conv2d(self.state.z, wf, bf)
        return float(np.max(np.abs(folded - bn(self.x())))), wf, bf

    def pytorch_code(self) -> str:
        n, c, h, w = self.shape
        layer = {
            "batch": f"nn.BatchNorm2d({c}, momentum={self.params['momentum']:g})",
            "layer": f"nn.LayerNorm([{c}, {h}, {w}])",
            "instance": f"nn.InstanceNorm2d({c}, affine=True)",
        }[self.kind]
        mode = "eval" if self.params["mode"] == "eval" else "train"
        return (
            "import torch\nimport torch.nn as nn\n\n"
            f"conv = nn.Conv2d({C_IN}, {c}, kernel_size=3)\nnorm = {layer}\n"
            f"norm.{mode}()\n"
            f"z = torch.randn({n}, {C_IN}, {h + 2}, {w + 2})\n"
            "y = norm(conv(z))          # normalized over " + self.reduced() + "\n"
            + (
                "\n# fold BN into the conv for inference\nnorm.eval()\n"
                "s = norm.weight / torch.sqrt(norm.running_var + norm.eps)\n"
                "w2 = conv.weight * s[:, None, None, None]\n"
                "b2 = (conv.bias - norm.running_mean) * s + norm.bias\n"
                if self.kind == "batch" else ""
            )
        )
