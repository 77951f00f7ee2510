"""The PyTorch code of what the GAN lab shows (same equations and hyperparameters)."""

from __future__ import annotations

_DATA = {
    "ring": """angle = 2 * math.pi * torch.randint(8, (n,)) / 8           # a ring of 8 Gaussians
data = 2.0 * torch.stack([angle.cos(), angle.sin()], 1) + 0.2 * torch.randn(n, 2)""",
    "moons": """a0, a1 = math.pi * torch.rand(n - n // 2), math.pi * torch.rand(n // 2)   # two moons
upper = torch.stack([a0.cos() - 0.5, a0.sin() - 0.25], 1)
lower = torch.stack([0.5 - a1.cos(), 0.25 - a1.sin()], 1)
data = 1.5 * (torch.cat([upper, lower]) + 0.05 * torch.randn(n, 2))""",
    "line": """t = 2 * torch.rand(n) - 1                                   # a line segment
data = torch.stack([2 * t, t], 1) + 0.05 * torch.randn(n, 2)""",
}

_ACT = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "leaky_relu": "nn.LeakyReLU(0.2)"}


def _mlp(sizes: list[int], act: str) -> str:
    parts = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        parts.append(f"nn.Linear({a}, {b})")
        if i < len(sizes) - 2:
            parts.append(_ACT[act])
    return "nn.Sequential(" + ", ".join(parts) + ")"


def pytorch_code(p: dict, view: str) -> str:
    if view == "bilinear":
        return f"""import torch

# min_x max_y f(x, y) = x * y: gradient descent on x, ascent on y (eta = {p['eta']:g})
eta = {p['eta']!r}
for mode in ("simultaneous", "alternating", "extragradient"):
    x = torch.tensor({p['x0']!r}, requires_grad=True)
    y = torch.tensor({p['y0']!r}, requires_grad=True)
    for t in range({p['game_steps']}):
        if mode == "extragradient":                    # gradients at a look-ahead point
            gx, gy = torch.autograd.grad(x * y, (x, y))
            xh = (x - eta * gx).detach().requires_grad_()
            yh = (y + eta * gy).detach().requires_grad_()
            gx, gy = torch.autograd.grad(xh * yh, (xh, yh))
            with torch.no_grad():
                x -= eta * gx
                y += eta * gy
            continue
        gx = torch.autograd.grad(x * y, x)[0]          # df/dx = y
        if mode == "simultaneous":
            gy = torch.autograd.grad(x * y, y)[0]      # df/dy = x, at the old x
        with torch.no_grad():
            x -= eta * gx                              # descent for the minimiser
        if mode == "alternating":
            gy = torch.autograd.grad(x * y, y)[0]      # y sees the new x
        with torch.no_grad():
            y += eta * gy                              # ascent for the maximiser
    print(mode, torch.hypot(x, y).item())      # simultaneous: r0 * (1 + eta**2) ** (steps / 2)
"""
    g_hidden = [int(w) for w in p["g_hidden"]]
    d_hidden = [int(w) for w in p["d_hidden"]]
    if p["dataset"] == "custom":
        data = f"data = torch.tensor({p['points']!r})                     # your points"
    else:
        data = _DATA[p["dataset"]]
    if p["optimizer"] == "adam":
        opt = "torch.optim.Adam({net}.parameters(), lr={lr!r}, betas=(0.5, 0.999), eps=1e-8)"
    else:
        opt = "torch.optim.SGD({net}.parameters(), lr={lr!r})"
    if p["g_loss"] == "minimax":
        g_line = "g_loss = -F.softplus(D(fake)).mean()          # minimax: mean log(1 - D(G(z)))"
    else:
        g_line = "g_loss = F.softplus(-D(fake)).mean()          # non-saturating: -mean log D(G(z))"
    return f"""import math
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed({p['seed']})
n, latent, batch, k = {p['n_points']}, {p['latent']}, {p['batch_size']}, {p['k']}
{data}

G = {_mlp([p['latent'], *g_hidden, 2], p['activation'])}
D = {_mlp([2, *d_hidden, 1], p['activation'])}          # D(x) = sigmoid(logit)
opt_g = {opt.format(net='G', lr=p['g_lr'])}
opt_d = {opt.format(net='D', lr=p['d_lr'])}

for step in range({p['max_steps']}):
    for _ in range(k):                               # k discriminator steps ...
        real = data[torch.randint(len(data), (batch,))]
        fake = G(torch.randn(batch, latent)).detach()
        # -log D(x) - log(1 - D(G(z))), written with softplus on the logits
        d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt_d.zero_grad(); d_loss.backward(); opt_d.step()
    fake = G(torch.randn(batch, latent))             # ... then one generator step
    {g_line}
    opt_g.zero_grad(); g_loss.backward(); opt_g.step()

# the lab's arrows: -d(g_loss)/dx at each generated point
x = G(torch.randn(256, latent)).detach().requires_grad_()
{g_line.split('=')[0].strip()}_x = {g_line.split('=', 1)[1].split('#')[0].strip().replace('fake', 'x')}
print(f"D loss {{d_loss.item():.3f}}  G loss {{g_loss.item():.3f}}")
arrows = -torch.autograd.grad({g_line.split('=')[0].strip()}_x * 256, x)[0]
"""
