"""The PyTorch code for what the optimizer lab shows (notes 3.6), and the focused optimizer's state."""

from __future__ import annotations

import numpy as np

from tutor.labs.optimizer.presets import EQUATIONS, HYPER_USED

#: Each surface as a PyTorch expression of the parameter tensor p.
TORCH_LOSS: dict[str, str] = {
    "quadratic": "0.5 * ({a} * p[0] ** 2 + {b} * p[1] ** 2)",
    "rosenbrock": "({a} - p[0]) ** 2 + {b} * (p[1] - p[0] ** 2) ** 2",
    "beale": ("(1.5 - p[0] + p[0] * p[1]) ** 2 + (2.25 - p[0] + p[0] * p[1] ** 2) ** 2"
              " + (2.625 - p[0] + p[0] * p[1] ** 3) ** 2"),
    "himmelblau": "(p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2",
    "saddle": "0.5 * p[0] ** 2 + 0.25 * p[1] ** 4 - 0.5 * p[1] ** 2",
    "plateau": "1 - torch.exp(-(p[0] ** 2 + p[1] ** 2) / {s} ** 2)",
}
_PARAM_NAMES = {"quadratic": ("a", "b"), "rosenbrock": ("a", "b"), "plateau": ("s",)}


def torch_optimizer(name: str, h: dict) -> tuple[str, str]:
    """The `torch.optim` constructor closest to the notes' optimizer `name`, and a comment
    saying where PyTorch's update differs from the notes' ("" when it does not)."""
    lr, g, b1, b2, eps = (repr(float(h[k])) for k in ("lr", "gamma", "beta1", "beta2", "eps"))
    return {
        "sgd": (f"torch.optim.SGD([p], lr={lr})", ""),
        "momentum": (f"torch.optim.SGD([p], lr={lr}, momentum={g})", ""),
        "nesterov": (f"torch.optim.SGD([p], lr={lr}, momentum={g}, nesterov=True)",
                     "look-ahead form"),
        "adagrad": (f"torch.optim.Adagrad([p], lr={lr}, eps={eps})", "eps outside the sqrt"),
        "rmsprop": (f"torch.optim.RMSprop([p], lr={lr}, alpha={g}, eps={eps})",
                    "eps outside the sqrt"),
        "adam": (f"torch.optim.Adam([p], lr={lr}, betas=({b1}, {b2}), eps={eps})", ""),
        "amsgrad": (f"torch.optim.Adam([p], lr={lr}, betas=({b1}, {b2}), eps={eps}, amsgrad=True)",
                    "bias-corrected, unlike the notes"),
    }[name]


def _loss_source(model) -> list[str]:
    s = model.surface
    if s.name == "least_squares":
        return [
            f"g = torch.Generator().manual_seed({model.seed})",
            f"X = 1.0 + torch.randn({s.n}, generator=g, dtype=torch.float64)",
            f"Y = 1.5 * X - 0.5 + {model.noise} * torch.randn({s.n}, generator=g, dtype=torch.float64)",
            "",
            "def loss_fn(p, idx=slice(None)):  # mean squared error of y = w x + b, p = (w, b)",
            "    return ((p[0] * X[idx] + p[1] - Y[idx]) ** 2).mean()",
        ]
    names = _PARAM_NAMES.get(s.name, ())
    expr = TORCH_LOSS[s.name].format(**{k: repr(float(v)) for k, v in zip(names, s.params)})
    return [f"def loss_fn(p):  # {s.formula}", f"    return {expr}"]


def pytorch_race(model) -> str:
    """A runnable script that races the on-screen optimizers with torch.optim."""
    s = model.surface
    stochastic = s.name == "least_squares" and model.batch_size < s.n
    lines = ["import torch", ""] + _loss_source(model) + ["", "optimizers = {"]
    firsts = [o for o in model.selected if o != "newton"]
    for name in firsts:
        code, note = torch_optimizer(name, model.hyper[name])
        lines.append(f"    {name!r}: lambda p: {code},{'  # ' + note if note else ''}")
    lines += ["}", "", "for name, make in optimizers.items():",
              f"    p = torch.tensor({list(model.start)!r}, dtype=torch.float64, requires_grad=True)",
              "    optimizer = make(p)",
              f"    for step in range({model.steps}):",
              "        optimizer.zero_grad()"]
    if stochastic:
        lines += [f"        idx = torch.randperm({s.n})[:{model.batch_size}]  # a mini-batch",
                  "        loss = loss_fn(p, idx)"]
    else:
        lines.append("        loss = loss_fn(p)")
    lines += ["        loss.backward()", "        optimizer.step()",
              "    print(name, p.detach().numpy(), loss_fn(p).item())"]
    if "newton" in model.selected:
        lr = model.hyper["newton"]["lr"]
        lines += ["", "# Newton's method has no torch.optim class: theta <- theta - lr H^-1 g",
                  f"p = torch.tensor({list(model.start)!r}, dtype=torch.float64)",
                  f"for step in range({model.steps}):",
                  "    g = torch.autograd.functional.jacobian(loss_fn, p)",
                  "    H = torch.autograd.functional.hessian(loss_fn, p)",
                  f"    p = p - {lr!r} * torch.linalg.solve(H, g)",
                  "print('newton', p.numpy(), loss_fn(p).item())"]
    return "\n".join(lines) + "\n"


def pytorch_convergence(model) -> str:
    """SGD with a fixed and a decreasing (eta / sqrt(t)) step size, as in the convergence view."""
    lr = model.conv_lr
    return "\n".join(["import math", "import torch", ""] + _loss_source(model) + [
        "",
        "for schedule in ('fixed', 'decreasing'):",
        f"    p = torch.tensor({list(model.start)!r}, dtype=torch.float64, requires_grad=True)",
        f"    optimizer = torch.optim.SGD([p], lr={lr!r})",
        "    # eta_t = eta / sqrt(t) for t = 1, 2, ...; LambdaLR multiplies lr by the factor",
        "    factor = (lambda t: 1.0) if schedule == 'fixed' else (lambda t: 1 / math.sqrt(t + 1))",
        "    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)",
        "    best = float('inf')",
        f"    for step in range({model.steps}):",
        "        optimizer.zero_grad()",
        f"        loss = loss_fn(p, torch.randint(0, {model.surface.n}, ({model.batch_size},)))",
        "        loss.backward()",
        "        optimizer.step()",
        "        scheduler.step()",
        "        p_full = p.detach().requires_grad_(True)",
        "        (grad,) = torch.autograd.grad(loss_fn(p_full), p_full)",
        "        best = min(best, grad.norm().item() ** 2)",
        "    print(schedule, 'min ||grad||^2 =', best)",
    ]) + "\n"


def _vec(v) -> str:
    return "(" + ", ".join(f"{float(x):+.3g}" for x in np.ravel(v)) + ")"


def state_lines(model) -> list[str]:
    """The focused optimizer's update equation and its state at the current step."""
    name = model.focus
    h = model.hyper[name]
    lines = [f"{name} · step {model.t}"] + [f"  {e}" for e in EQUATIONS[name]]
    if name not in model.runs:
        hyper = {"lr": "η", "gamma": "γ", "beta1": "β₁", "beta2": "β₂", "eps": "ε"}
        lines.append("  " + "  ".join(f"{hyper[k]}={h[k]:.3g}" for k in HYPER_USED[name]))
        return lines + ["(not in the race: press t)"]
    run = model.runs[name]
    i = model.index(name)
    theta = run.thetas[i]
    st = run.states[i]
    lines.append(f"θ = {_vec(theta)}")
    lines.append(f"g = {_vec(model.surface.grad(theta))}")
    if name in ("momentum", "nesterov"):
        lines.append(f"v = {_vec(st[0])}")
    elif name in ("adagrad", "rmsprop"):
        lines.append(f"s = {_vec(st[1])}")
    elif name in ("adam", "amsgrad"):
        lines.append(f"m = {_vec(st[0])}")
        lines.append(f"v = {_vec(st[1])}")
        if name == "adam" and i >= 1:
            m_hat, v_hat = run.bias_corrected(i)
            lines.append(f"m̂ = {_vec(m_hat)}")
            lines.append(f"v̂ = {_vec(v_hat)}")
        elif name == "amsgrad":
            lines.append(f"v̂ = {_vec(st[2])} (max)")
    elif name == "newton":
        lines.append(f"H = {_vec(model.surface.hessian(theta))}")
    if run.diverged_at is not None and model.t >= run.diverged_at:
        lines.append(f"✗ diverged at step {run.diverged_at}: {run.reason}")
    return lines


def convergence_lines(model) -> list[str]:
    """Both SGD runs of the convergence view at the current step."""
    c = model.convergence
    t = model.t
    lines = [f"SGD · step {t}", "  θ ← θ − ηₜ g̃  (g̃ from a batch)"]
    for label, run, lr in (("fixed", c.fixed, model.conv_lr),
                           ("η/√t", c.decreasing, model.conv_lr / max(t, 1) ** 0.5)):
        i = min(t, run.thetas.shape[0] - 1)
        best = float(np.min(run.grad_norms[1 : i + 1] ** 2)) if i else float("nan")
        lines += [f"{label}: ηₜ = {lr:.3g}", f"  θ = {_vec(run.thetas[i])}",
                  f"  ‖∇L(θ)‖ = {run.grad_norms[i]:.3g}", f"  min ‖∇L‖² = {best:.3g}"]
        if run.diverged_at is not None and t >= run.diverged_at:
            lines.append(f"  ✗ diverged at step {run.diverged_at}")
    T = max(t, 1)
    lines.append(f"bound at T={T}: {float(c.bound(np.array([float(T)]))[0]):.3g}")
    return lines
