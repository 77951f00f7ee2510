"""MSE and cross-entropy on one prediction, and cross-entropy computed naively vs with
log-sum-exp (notes 3.2); plain NumPy, no Textual."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tutor.history import History, HistoryModel
from tutor.labs.losses.params import MODES

#: How much one step multiplies the scale of the logits in each mode.
STEP_FACTOR = {"compare": 1.25, "stability": 1.5}


def naive_cross_entropy(x: np.ndarray, y: int) -> tuple[float, np.ndarray, np.ndarray]:
    """−log(exp(x_y) / Σᵢ exp(xᵢ)) computed literally: (loss, exp(x), softmax). Overflows to
    inf / inf = NaN once some x_i > ~709."""
    with np.errstate(all="ignore"):
        e = np.exp(x)
        p = e / e.sum()
        return float(-np.log(p[y])), e, p


def stable_cross_entropy(x: np.ndarray, y: int) -> tuple[float, float, np.ndarray]:
    """m + log Σᵢ exp(xᵢ − m) − x_y with m = max x (log-sum-exp): (loss, m, exp(x − m))."""
    m = float(np.max(x))
    shifted = np.exp(x - m)
    return float(m + np.log(shifted.sum()) - x[y]), m, shifted


def vec(v) -> str:
    """A vector as the lab shows it: "(2, 1, -1)"."""
    return "(" + ", ".join(f"{float(x):.3g}" for x in np.ravel(v)) + ")"


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x))
    return e / e.sum()


def mse_on_probabilities(x: np.ndarray, y: int) -> float:
    """‖softmax(x) − e_y‖², the notes' MSE between the predicted probabilities and the one-hot
    target."""
    target = np.zeros_like(x)
    target[y] = 1.0
    return float(np.sum((softmax(x) - target) ** 2))


@dataclass(frozen=True)
class LossView:
    """Every number the lab shows for logits s·x and label y."""

    logits: np.ndarray
    label: int
    probs: np.ndarray
    mse: float
    ce: float
    ce_naive: float
    exp_naive: np.ndarray
    m: float
    exp_shifted: np.ndarray

    @property
    def overflowed(self) -> bool:
        """True when the naive formula did not give a finite loss."""
        return not np.isfinite(self.ce_naive)


def view(base: np.ndarray, label: int, scale: float) -> LossView:
    x = np.asarray(base, dtype=np.float64) * scale
    ce_naive, e, _ = naive_cross_entropy(x, label)
    ce, m, shifted = stable_cross_entropy(x, label)
    return LossView(x, label, softmax(x), mse_on_probabilities(x, label), ce, ce_naive, e, m,
                    shifted)


def curves(base: np.ndarray, label: int, scales: np.ndarray) -> dict[str, np.ndarray]:
    """MSE, cross-entropy and the naive cross-entropy for every scale (NaN where it breaks):
    the formulas of `view`, for all scales at once (one row of scores per scale)."""
    x = np.asarray(scales, dtype=np.float64)[:, None] * np.asarray(base, dtype=np.float64)[None, :]
    with np.errstate(all="ignore"):
        e = np.exp(x)
        naive = -np.log(e[:, label] / e.sum(axis=1))
    m = x.max(axis=1, keepdims=True)
    shifted = np.exp(x - m)
    total = shifted.sum(axis=1)
    ce = m[:, 0] + np.log(total) - x[:, label]
    target = np.zeros(x.shape[1])
    target[label] = 1.0
    mse = np.sum((shifted / total[:, None] - target) ** 2, axis=1)
    return {"mse": mse, "ce": ce, "naive": np.where(np.isfinite(naive), naive, np.nan)}


class LossesModel(HistoryModel):
    """The logits, label and mode, and a history of scales (a step multiplies the scale).

    Stepping (`step`, `back`, `reset`, `advance`) walks the history of scales; `apply` changes
    the mode, the scores ("logits", text or numbers), the class ("label") or the scale.
    """

    def __init__(self, params: dict) -> None:
        self.mode = params["mode"]
        self.base = np.array(params["logits"] or [2.0, 1.0, -1.0], dtype=np.float64)
        if self.base.size < 2:
            self.base = np.append(self.base, 0.0)
        self.label = min(int(params["label"]), self.base.size - 1)
        self.history = History(float(params["scale"]), self._next, max_len=1000)

    def _next(self, scale: float) -> float | None:
        nxt = scale * STEP_FACTOR[self.mode] if scale else 1.0
        return nxt if abs(nxt) <= 1e6 else None

    @property
    def scale(self) -> float:
        return self.history.current

    @property
    def index(self) -> int:
        """How many steps the scale is from the first one (0 at the start)."""
        return self.history.index

    def status(self) -> str:
        return f"s = {self.scale:.4g}"

    def apply(self, name: str, value) -> str | None:
        """Change the mode, the scores, the class or the scale: None when applied, else why
        not and what was kept (the scores and the class stay as they were)."""
        if name == "mode":
            if value not in MODES:
                return f"the view is one of {', '.join(MODES)}; kept {self.mode}"
            self.mode = value
        elif name == "logits":
            text = value if isinstance(value, str) else ", ".join(f"{float(v):g}" for v in value)
            try:
                self.set_logits(text)
            except ValueError as exc:
                return f"{exc}; kept {vec(self.base)}"
        elif name == "label":
            try:
                self.set_label(value)
            except ValueError as exc:
                return f"{exc}; kept y = {self.label}"
        elif name == "scale":
            try:
                self.set_scale(value)
            except (TypeError, ValueError):
                return f"the scale is a number; kept s = {self.scale:.4g}"
        else:
            return f"the losses lab has no setting {name!r}"
        return None

    def set_logits(self, text: str) -> None:
        """Parse "2, 1, -1" (at least two finite numbers, at most 10); ValueError otherwise."""
        parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError("type numbers separated by commas, e.g. 2, 1, -1") from None
        if not 2 <= len(values) <= 10:
            raise ValueError("give between 2 and 10 scores (one per class)")
        if not all(np.isfinite(values)):
            raise ValueError("scores must be finite")
        self.base = np.array(values)
        self.label = min(self.label, self.base.size - 1)

    def set_label(self, label: int) -> None:
        if not 0 <= label < self.base.size:
            raise ValueError(f"the class must be between 0 and {self.base.size - 1}")
        self.label = int(label)

    def set_scale(self, scale: float) -> None:
        self.history.replace_future(float(scale))

    def view(self) -> LossView:
        return view(self.base, self.label, self.scale)

    def question(self) -> tuple[str, str, int, str]:
        """The prediction asked before the first step: (key, prompt, answer, explanation).

        compare: does the cross-entropy go down (1) or up (2) when n multiplies s?
        stability: what does the naive formula give after n: a number (1), +inf (2), NaN (3)?
        """
        now = self.scale
        nxt = self._next(now)
        nxt = now if nxt is None else nxt
        if self.mode == "compare":
            before = view(self.base, self.label, now).ce
            after = view(self.base, self.label, nxt).ce
            answer = 1 if after <= before else 2
            return ("ce-direction",
                    f"Predict: after n (s = {nxt:.4g}), the cross-entropy goes 1 down or 2 up?",
                    answer, f"CE {before:.4g} → {after:.4g}.")
        with np.errstate(all="ignore"):
            naive = view(self.base, self.label, nxt).ce_naive
        answer = 3 if np.isnan(naive) else 2 if np.isinf(naive) else 1
        said = ("NaN: exp overflows in the numerator too, inf / inf" if answer == 3 else
                "+inf: the sum overflows, p_y = 0 and −log 0 = inf" if answer == 2 else
                f"{naive:.4g}: nothing overflows yet")
        return ("naive-after-step",
                f"Predict: after n (s = {nxt:.4g}) the naive loss is 1 a number 2 +inf 3 NaN?",
                answer, said + ".")

    def chart_scales(self) -> np.ndarray:
        """Scales for the chart: from -top to top, so the true class is the most likely on one
        side and the least likely on the other (confidently right vs confidently wrong)."""
        top = max(5.0, 1.5 * abs(self.scale))
        return np.linspace(-top, top, 161)

    def pytorch_code(self) -> str:
        x = ", ".join(repr(round(float(v), 6)) for v in self.base * self.scale)
        c = self.base.size
        return "\n".join([
            "import torch",
            "import torch.nn as nn",
            "",
            f"x = torch.tensor([[{x}]], dtype=torch.float64)  # scores, shape [N, C] = [1, {c}]",
            f"y = torch.tensor([{self.label}])                  # class index, shape [N] = [1]",
            "",
            "ce = nn.CrossEntropyLoss()(x, y)      # LogSoftmax + NLLLoss, with log-sum-exp",
            "naive = -torch.log(torch.exp(x[0, y]) / torch.exp(x).sum())  # overflows for big x",
            "m = x.max()",
            "stable = m + torch.log(torch.exp(x - m).sum()) - x[0, y]      # the same as ce",
            f"target = nn.functional.one_hot(y, {c}).double()",
            "mse = nn.MSELoss(reduction='sum')(torch.softmax(x, dim=1), target)",
            "print(ce.item(), naive.item(), stable.item(), mse.item())",
        ]) + "\n"
