"""The PyTorch code of what the flow lab shows (same equations and hyperparameters)."""

from __future__ import annotations

_F = {
    "affine": "a * z + 1", "exp": "torch.exp(a * z)", "sinh": "torch.sinh(a * z)",
    "split": "z + a * torch.tanh(3 * z)",
}

_DATA = {
    "moons": """a0, a1 = math.pi * torch.rand(n - n // 2), math.pi * torch.rand(n // 2)
upper = torch.stack([a0.cos() - 0.5, a0.sin() - 0.25], 1)
lower = torch.stack([0.5 - a1.cos(), 0.25 - a1.sin()], 1)
data = 1.5 * (torch.cat([upper, lower]) + 0.05 * torch.randn(n, 2))""",
    "ring": """angle = 2 * math.pi * torch.randint(8, (n,)) / 8
data = 2.0 * torch.stack([angle.cos(), angle.sin()], 1) + 0.2 * torch.randn(n, 2)""",
    "banana": """x1 = torch.randn(n)
data = torch.stack([x1, 0.5 * x1**2 - 1 + 0.3 * torch.randn(n)], 1)""",
    "line": """t = 2 * torch.rand(n) - 1
data = torch.stack([2 * t, t], 1) + 0.05 * torch.randn(n, 2)""",
}

_LOG_TARGET = {
    "ring": """def log_target(x):                      # the ring's exact log-density
    angle = 2 * math.pi * torch.arange(8) / 8
    c = 2.0 * torch.stack([angle.cos(), angle.sin()], 1)
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1) / 0.2**2
    return torch.logsumexp(-0.5 * d2, 1) - math.log(8) - math.log(2 * math.pi * 0.2**2)""",
    "banana": """def log_target(x):                      # the banana's exact log-density
    r = (x[:, 1] - 0.5 * x[:, 0] ** 2 + 1) / 0.3
    return -0.5 * x[:, 0] ** 2 - 0.5 * r**2 - math.log(2 * math.pi * 0.3)""",
}


def pytorch_code(p: dict, view: str) -> str:
    if view == "1d":
        return f"""import math
import torch

a, z0 = {p['a']!r}, {p['z0']!r}
base = torch.distributions.Normal(0.0, 1.0)
f = lambda z: {_F[p['transform']]}            # increasing: a one-dimensional flow

z = torch.tensor(z0, requires_grad=True)
x = f(z)
det = torch.autograd.grad(x, z)[0].abs()       # |det ∂x/∂z| = |f'(z0)| in 1-D
log_p_x = base.log_prob(z) - det.log()         # change of variables
print(f"x0 = {{x.item():.4f}}  |det| = {{det.item():.4f}}  p_X(x0) = {{log_p_x.exp().item():.4f}}")
"""
    hidden = [int(w) for w in p["hidden"]]
    if p["flow"] == "planar":
        return f"""import math
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed({p['seed']})


class Planar(nn.Module):
    \"\"\"x = z + û tanh(wᵀz + b), log|det| = log|1 + ûᵀ tanh'(wᵀz + b) w| (Rezende & Mohamed).\"\"\"

    def __init__(self):
        super().__init__()
        self.w, self.u = nn.Parameter(0.5 * torch.randn(2)), nn.Parameter(0.5 * torch.randn(2))
        self.b = nn.Parameter(torch.zeros(()))

    def forward(self, z):
        wu = self.w @ self.u                    # û keeps wᵀû ≥ −1: invertible
        u_hat = self.u + (-1 + F.softplus(wu) - wu) * self.w / (self.w @ self.w)
        h = torch.tanh(z @ self.w + self.b)
        det = 1 + (1 - h**2) * (u_hat @ self.w)
        return z + h[:, None] * u_hat, det.abs().log()


{_LOG_TARGET[p['dataset']]}


layers = nn.ModuleList(Planar() for _ in range({p['layers']}))
opt = torch.optim.Adam(layers.parameters(), lr={p['lr']!r})
base = torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
for step in range({p['max_steps']}):
    z = base.sample(({p['batch_size']},))
    log_q = base.log_prob(z)
    x = z
    for layer in layers:
        x, log_det = layer(x)
        log_q = log_q - log_det                 # change of variables, layer by layer
    loss = (log_q - log_target(x)).mean()       # reverse KL(q || p), up to a constant
    opt.zero_grad(); loss.backward(); opt.step()
print(f"KL estimate {{loss.item():.3f}}")
"""
    net = []
    sizes = [2, *hidden, 4]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        net.append(f"nn.Linear({a}, {b})")
        if i < len(sizes) - 2:
            net.append("nn.Tanh()")
    return f"""import math
import torch
import torch.nn as nn

torch.manual_seed({p['seed']})
n = {p['n_points']}
{_DATA[p['dataset']]}


class AffineCoupling(nn.Module):
    \"\"\"RealNVP: x = b*z + (1-b)*(z*exp(s(b*z)) + t(b*z)), log|det| = sum((1-b)*s).\"\"\"

    def __init__(self, mask):
        super().__init__()
        self.register_buffer("b", torch.tensor(mask, dtype=torch.float32))
        self.net = nn.Sequential({", ".join(net)})

    def st(self, y):
        raw, t = self.net(self.b * y).chunk(2, dim=1)
        s = 2.0 * torch.tanh(raw) * (1 - self.b)          # each scale in [e^-2, e^2]
        return s, t * (1 - self.b)

    def forward(self, z):                                # sampling direction
        s, t = self.st(z)
        return z * s.exp() + t, s.sum(1)

    def inverse(self, x):                                # density direction
        s, t = self.st(x)
        return (x - t) * (-s).exp(), s.sum(1)


layers = nn.ModuleList(AffineCoupling([1, 0] if i % 2 == 0 else [0, 1]) for i in range({p['layers']}))
base = torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))


def log_prob(x):
    total = torch.zeros(len(x))
    for layer in reversed(layers):                       # x -> z, the inverse of sampling
        x, log_det = layer.inverse(x)
        total = total + log_det
    return base.log_prob(x) - total                      # change of variables


opt = torch.optim.Adam(layers.parameters(), lr={p['lr']!r})
for step in range({p['max_steps']}):
    batch = data[torch.randint(n, ({p['batch_size']},))]
    loss = -log_prob(batch).mean()                       # maximum likelihood
    opt.zero_grad(); loss.backward(); opt.step()
print(f"-log p(data) = {{-log_prob(data).mean().item():.3f}}")

with torch.no_grad():                                    # sampling: z -> x through the layers
    x = base.sample((400,))
    for layer in layers:
        x, _ = layer(x)
"""
