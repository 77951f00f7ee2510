"""The PyTorch code of what each view shows (same equations and hyperparameters)."""

from __future__ import annotations

_MOONS = '''import torch
import torch.nn as nn
import torch.nn.functional as F
from core.nn import make_dataset, train_test_split    # the lab's own two moons

torch.manual_seed({seed})
X, y, X_test, y_test = train_test_split(*make_dataset("moons", {n_points}, {noise}, {seed}), 0.25, {seed})
X, y = torch.tensor(X), torch.tensor(y)
model = nn.Sequential(nn.Linear(2, {hidden}), nn.ReLU(), nn.Linear({hidden}, {hidden}), nn.ReLU(),
                      nn.Linear({hidden}, 2)).double()
'''

_ATTACKS = '''
def fgsm(model, x, y, eps, clip=None):
    """x + eps * sign(grad_x J(theta, x, y))  (Goodfellow et al. 2015)."""
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()
    x_adv = x + eps * x.grad.sign()
    return x_adv.clamp(*clip).detach() if clip else x_adv.detach()


def pgd(model, x, y, eps, alpha, steps, norm="inf", clip=None):
    """Projected gradient ascent inside the eps-ball around x (Madry et al. 2018)."""
    x_adv = x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(model(x_adv), y)
        grad, = torch.autograd.grad(loss, x_adv)
        with torch.no_grad():
            if norm == "inf":
                x_adv = x + (x_adv + alpha * grad.sign() - x).clamp(-eps, eps)
            else:
                g = grad.flatten(1)
                step = (g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)).view_as(x)
                delta = (x_adv + alpha * step - x).flatten(1)
                delta = delta * (eps / delta.norm(dim=1, keepdim=True).clamp_min(1e-12)).clamp(max=1)
                x_adv = x + delta.view_as(x)
            if clip:
                x_adv = x_adv.clamp(*clip)
    return x_adv.detach()
'''

_TRAIN = '''
opt = torch.optim.Adam(model.parameters(), lr={lr})
for step in range({train_steps}):
    idx = torch.randint(0, len(y), (32,))
    xb, yb = X[idx], y[idx]
{adv}    opt.zero_grad()
    F.cross_entropy(model(xb), yb).backward()
    opt.step()
model.eval()
'''

_ADV = '''    # adversarial training: min over theta of max over the eps-ball of the loss
    xb = pgd(model, xb, yb, eps={eps}, alpha={alpha}, steps={pgd_steps}, norm="{norm}"{clip})
'''

_SPECTRAL = '''# spectral normalization: every Linear computes with W / sigma(W), sigma from one power
# iteration per step (Miyato et al. 2018)
from torch.nn.utils.parametrizations import spectral_norm
for i, layer in enumerate(model):
    if isinstance(layer, nn.Linear):
        model[i] = spectral_norm(layer)
'''


def _train(p: dict, clip: str = "") -> str:
    adv = _ADV.format(clip=clip, **p) if p["adv_train"] else ""
    return (_SPECTRAL if p["spectral"] else "") + _ATTACKS + _TRAIN.format(adv=adv, **p)


def plane(p: dict) -> str:
    """Train the 2-D network, then attack one point as the plane view does."""
    if p["attack"] == "fgsm":
        call = "x_adv = fgsm(model, x, y_true, eps={eps})".format(**p)
    else:
        call = ('x_adv = pgd(model, x, y_true, eps={eps}, alpha={alpha}, steps={pgd_steps}, '
                'norm="{norm}")').format(**p)
    return (_MOONS.format(**p) + _train(p) + f'''
x, y_true = X[:1], y[:1]                     # the point under attack
{call}
print(model(x).softmax(1), model(x_adv).softmax(1))
print("moved", (x_adv - x).abs().max().item(), (x_adv - x).norm().item())
''')


def digits(p: dict) -> str:
    """Train the digit MLP, attack the test set at several eps, print the accuracies."""
    q = {**p, "hidden": p["hidden"]}
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F

from core.data import digits                         # the lab's digits, 16 x 16 in [0, 1]
from core.nn import train_test_split

torch.manual_seed({p["seed"]})
images, labels = digits(40, 16, {p["seed"]})
X, y, X_test, y_test = train_test_split(images.reshape(400, 256), labels, 0.25, {p["seed"]})
X, y = torch.tensor(X), torch.tensor(y)
model = nn.Sequential(nn.Linear(256, {q["hidden"]}), nn.ReLU(), nn.Linear({q["hidden"]}, 10)).double()
''' + _train(p, clip=", clip=(0, 1)") + '''
X, y = torch.tensor(X_test), torch.tensor(y_test)   # attack the held-out digits
for eps in [0.0, 0.05, 0.1, 0.15, 0.2]:
    x_f = fgsm(model, X, y, eps, clip=(0, 1))
    x_p = pgd(model, X, y, eps, alpha=eps / 4, steps=10, clip=(0, 1)) if eps else X
    acc = lambda x: (model(x).argmax(1) == y).double().mean().item()
    print(f"eps {eps:.2f}: FGSM {acc(x_f):.0%}, PGD {acc(x_p):.0%}")
'''


def lipschitz(p: dict) -> str:
    """Power iteration on each layer, the product bound, the largest Jacobian norm."""
    return _MOONS.format(**p) + _train({**p, "adv_train": False}) + f'''
def power_iteration(W, iters={p["power_iters"]}):
    v = torch.randn(W.shape[1], dtype=W.dtype)
    v /= v.norm()
    for _ in range(iters):
        u = W @ v; u /= u.norm()
        v = W.T @ u; v /= v.norm()
    return (W @ v).norm()


weights = [m.weight.detach() for m in model.modules() if isinstance(m, nn.Linear)]
sigmas = [power_iteration(W) for W in weights]
print([s.item() for s in sigmas], [torch.linalg.matrix_norm(W, ord=2).item() for W in weights])
bound = torch.stack(sigmas).prod()
# the local Lipschitz constant: the largest singular value of the Jacobian at each point
J = torch.func.vmap(torch.func.jacrev(model))(X)          # (N, 2, 2)
local = torch.linalg.matrix_norm(J, ord=2)
print(f"bound {{bound.item():.3f}} >= largest Jacobian norm {{local.max().item():.3f}}")
'''


def regularization(p: dict) -> str:
    """The overfitting preset: a plain and a regularized run, early stopping on the test loss."""
    return f'''import torch
import torch.nn as nn
import torch.nn.functional as F
from core.nn import make_dataset, train_test_split    # the lab's own two moons

torch.manual_seed({p["seed"]})
data = train_test_split(*make_dataset("moons", {p["n_points"]}, {p["noise"]}, {p["seed"]}), 0.5, {p["seed"]})
Xtr, ytr, Xte, yte = (torch.tensor(a) for a in data)


def net(dropout):
    h = {p["hidden"]}
    return nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(h, h), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(h, 2)).double()


for name, dropout, wd in [("plain", 0.0, 0.0), ("regularized", {p["dropout"]}, {p["weight_decay"]})]:
    model = net(dropout)
    opt = torch.optim.Adam(model.parameters(), lr={p["lr"]}, weight_decay=wd)  # adds wd * theta
    best, best_step, waited = float("inf"), 0, 0
    for step in range(1, {p["train_steps"]} + 1):
        model.train()
        idx = torch.randint(0, len(ytr), (32,))
        opt.zero_grad()
        F.cross_entropy(model(Xtr[idx]), ytr[idx]).backward()
        opt.step()
        if step % {max(1, p["train_steps"] // 100)} == 0:
            model.eval()                     # dropout off: the whole network predicts
            with torch.no_grad():
                test = F.cross_entropy(model(Xte), yte).item()
            if test < best:
                best, best_step, waited = test, step, 0
            else:
                waited += 1                  # early stopping: patience {p["patience"]} records
    print(name, "best test loss", best, "at step", best_step)
'''
