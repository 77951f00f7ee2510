"""The code the Gridworld lab offers to copy: its value iteration in PyTorch tensors."""

from __future__ import annotations

from tutor.labs.gridworld.presets import GridSpec

TEMPLATE = '''import torch

# The grid on screen: {rows} x {cols}, step reward {step}, slip {slip}, gamma {gamma}
rows, cols, gamma, slip, step_reward = {rows}, {cols}, {gamma}, {slip}, {step}
walls = {walls}
terminals = {terminals}
rewards = {rewards}          # reward for entering a cell (others: step_reward)
teleports = {teleports}      # cell: (destination, reward)

S, A = rows * cols, 4
moves = [(-1, 0), (1, 0), (0, -1), (0, 1)]           # up, down, left, right
sideways = [(2, 3), (2, 3), (0, 1), (0, 1)]
P = torch.zeros(S, A, S, dtype=torch.float64)          # P[s, a, s']
R = torch.zeros(S, A, dtype=torch.float64)             # expected reward R(s, a)

def target(r, c, a):
    r2, c2 = r + moves[a][0], c + moves[a][1]
    ok = 0 <= r2 < rows and 0 <= c2 < cols and (r2, c2) not in walls
    return (r2, c2) if ok else (r, c)

for r in range(rows):
    for c in range(cols):
        s = r * cols + c
        if (r, c) in walls or (r, c) in terminals:
            P[s, :, s] = 1.0                           # absorbing, reward 0
            continue
        for a in range(A):
            if (r, c) in teleports:
                (r2, c2), reward = teleports[(r, c)]
                P[s, a, r2 * cols + c2] = 1.0
                R[s, a] = reward
                continue
            for b, p in ((a, 1 - slip), *((x, slip / 2) for x in sideways[a])):
                r2, c2 = target(r, c, b)
                gain = step_reward if (r2, c2) == (r, c) else rewards.get((r2, c2), step_reward)
                P[s, a, r2 * cols + c2] += p
                R[s, a] += p * gain

V = torch.zeros(S, dtype=torch.float64)
for sweep in range(1, 10_001):                         # value iteration (notes 8.2.5)
    Q = R + gamma * P @ V                              # Q[s, a] = R + gamma sum_s' P V
    V_new = Q.max(dim=1).values
    delta = (V_new - V).abs().max().item()
    V = V_new
    if delta < 1e-10:
        break
print(f"{{sweep}} sweeps, max change {{delta:.3g}}")
print(V.reshape(rows, cols))
print("greedy policy:", "".join("↑↓←→"[a] for a in Q.argmax(dim=1).tolist()))
'''


def pytorch_code(spec: GridSpec, mode: str) -> str:
    """Value iteration of `spec` in PyTorch (dense P, fine for the lab's grids)."""
    code = TEMPLATE.format(
        rows=spec.rows, cols=spec.cols, gamma=spec.gamma, slip=spec.slip, step=spec.step_reward,
        walls=set(sorted(spec.walls)) or "set()", terminals=set(sorted(spec.terminals)) or "set()",
        rewards=dict(spec.rewards),
        teleports={src: (dst, r) for src, dst, r in spec.teleports},
    )
    if mode == "q_learning":
        code = ("# Q-learning needs no model; value iteration below gives the q* it converges "
                "to.\n" + code)
    return code
