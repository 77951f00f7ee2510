"""The PyTorch code of what the autoencoder lab shows (same equations and hyperparameters)."""

from __future__ import annotations

_PCA = '''\
# A linear autoencoder x̂ = W_d W_e x trained by gradient descent, against PCA.
import math
import numpy as np
import torch
import torch.nn.functional as F

# the lab's {cloud} point cloud (seed {seed})
scales = np.array({scales})
rng = np.random.default_rng({seed})
a, b = math.radians(35.0), math.radians(25.0)
rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
rot = rz[:2, :2] if scales.size == 2 else rx @ rz
X = (rng.standard_normal(({n}, scales.size)) * scales) @ rot.T + np.array([1.0, -0.5, 0.5])[:scales.size]
D, k = X.shape[1], {k}

X = torch.tensor(X)
Xc = X - X.mean(0)                      # centred: no biases needed
encoder = torch.nn.Linear(D, k, bias=False, dtype=torch.float64)
decoder = torch.nn.Linear(k, D, bias=False, dtype=torch.float64)
init = np.random.default_rng({seed})      # the lab's initial weights
with torch.no_grad():
    encoder.weight.copy_(torch.tensor(init.normal(0, 1 / math.sqrt(D), (k, D))))
    decoder.weight.copy_(torch.tensor(init.normal(0, 1 / math.sqrt(k), (D, k))))
optimizer = torch.optim.SGD([encoder.weight, decoder.weight], lr={lr})

# PCA: the top-k eigenvectors of the covariance
eigenvalues, eigenvectors = torch.linalg.eigh(Xc.T @ Xc / len(Xc))
principal = eigenvectors[:, -k:]
print("loss floor", eigenvalues[:-k].sum().item() / D)

def angle_to_pca():
    q, _ = torch.linalg.qr(decoder.weight.detach())      # basis of what x̂ can be
    cos = torch.linalg.svdvals(q.T @ principal).clamp(max=1.0)
    return torch.rad2deg(torch.arccos(cos)).max().item()

for step in range({steps}):
    loss = F.mse_loss(decoder(encoder(Xc)), Xc)           # mean over the N·D entries
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(step, loss.item(), angle_to_pca())
'''

_DIGITS = '''\
# {title} on the built-in digits (16 x 16), a code of {latent} numbers, trained with Adam.
import torch
import torch.nn as nn
import torch.nn.functional as F
from core.data import digits            # dl-tutor's digits: X (n, 1, 16, 16) in [0, 1]

X, y = digits(n_per_class={n_per_class}, size=16, seed={seed})
X = torch.tensor(X).reshape(len(X), 256)
torch.manual_seed({seed})


class {cls}(nn.Module):
    def __init__(self, image_size=256, h_dim={hidden}, z_dim={latent}):
        super().__init__()
        self.fc1 = nn.Linear(image_size, h_dim)
        self.fc2 = nn.Linear(h_dim, z_dim)            # μ (the code)
{fc3}        self.fc4 = nn.Linear(z_dim, h_dim)
        self.fc5 = nn.Linear(h_dim, image_size)

    def encode(self, x):
        h = F.relu(self.fc1(x))
{encode}
    def decode(self, z):                              # logits; x̂ = sigmoid(logits)
        return self.fc5(F.relu(self.fc4(z)))

    def forward(self, x):
{forward}

model = {cls}().double()
optimizer = torch.optim.Adam(model.parameters(), lr={lr})
noise, beta = {noise}, {beta}

for step in range({total}):
    x = X[torch.randperm(len(X))[:{batch_size}]]
    x_in = (x + noise * torch.randn_like(x)).clamp(0, 1) if noise > 0 else x
    logits, mu, log_var = model(x_in)
    # −log p(x|z): binary cross-entropy summed over the pixels, averaged over the batch
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
    kl = torch.zeros(())                              # the autoencoders have no KL term
    if log_var is not None:                           # KL(N(μ, σ²) ‖ N(0, I)), closed form
        kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp()) / len(x)
    loss = recon + beta * kl                          # −ELBO (β = 1) for the VAE
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 100 == 0:
        print(step, recon.item(), kl.item())

with torch.no_grad():
    codes = model.encode(X)[0]                        # the latent space (first 2 numbers), by y
    samples = torch.sigmoid(model.decode(torch.randn(16, {latent}, dtype=torch.float64)))
'''


def pytorch_code(params: dict) -> str:
    """Runnable PyTorch code for the lab's current view and parameters."""
    p = params
    if p["view"] == "pca":
        scales = (2.0, 0.6) if p["cloud"] == "2d" else (2.0, 1.0, 0.35)
        return _PCA.format(cloud=p["cloud"].upper(), seed=p["seed"], scales=list(scales), n=200,
                           k=p["k"], lr=p["lr_linear"], steps=max(100, p["max_steps"] // 2))
    vae = p["view"] == "vae"
    if vae:
        fc3 = "        self.fc3 = nn.Linear(h_dim, z_dim)            # log σ²\n"
        encode = "        return self.fc2(h), self.fc3(h)\n\n    def reparameterize(self, mu, log_var):\n" \
                 "        eps = torch.randn_like(mu)                    # the noise, outside the net\n" \
                 "        return mu + torch.exp(log_var / 2) * eps      # z = μ + σ ⊙ ε\n"
        forward = "        mu, log_var = self.encode(x)\n" \
                  "        z = self.reparameterize(mu, log_var)\n" \
                  "        return self.decode(z), mu, log_var\n"
        title, cls = "A variational autoencoder (Kingma & Welling 2014)", "VAE"
    else:
        fc3 = ""
        encode = "        return self.fc2(h), None\n"
        forward = "        mu, _ = self.encode(x)\n" \
                  "        return self.decode(mu), mu, None\n"
        title = ("A denoising autoencoder (Vincent et al. 2008)" if p["view"] == "denoise"
                 else "An autoencoder")
        cls = "AE"
    noise = p["noise"] if p["view"] == "denoise" else 0.0
    beta = p["beta"] if vae else 0.0
    return _DIGITS.format(title=title, cls=cls, n_per_class=p["n_per_class"], seed=p["seed"],
                          hidden=p["hidden"], latent=p["latent"], fc3=fc3, encode=encode, forward=forward,
                          lr=p["lr"], noise=noise, beta=beta, batch_size=p["batch_size"],
                          total=p["batches"] * max(100, p["max_steps"] // 2))
