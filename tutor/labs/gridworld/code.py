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


DQN_TEMPLATE = '''import random
import torch
import torch.nn as nn

# Deep Q-learning on the grid on screen ({rows} x {cols}, step reward {step}, slip {slip}).
# The agent never reads P or R: it only calls step(s, a), as it would play a game.
rows, cols, gamma, slip, step_reward = {rows}, {cols}, {gamma}, {slip}, {step}
walls = {walls}
terminals = {terminals}
rewards = {rewards}          # reward for entering a cell (others: step_reward)
teleports = {teleports}      # cell: (destination, reward)
S, A = rows * cols, 4
moves = [(-1, 0), (1, 0), (0, -1), (0, 1)]           # up, down, left, right
sideways = [(2, 3), (2, 3), (0, 1), (0, 1)]
random.seed({seed})
torch.manual_seed({seed})


def step(s, a):
    """Sample (s', r, done) as the environment does."""
    r, c = divmod(s, cols)
    if (r, c) in teleports:
        (r2, c2), reward = teleports[(r, c)]
        return r2 * cols + c2, reward, False
    u = random.random()
    if u >= 1 - slip:
        a = sideways[a][0] if u < 1 - slip / 2 else sideways[a][1]
    r2, c2 = r + moves[a][0], c + moves[a][1]
    if not (0 <= r2 < rows and 0 <= c2 < cols) or (r2, c2) in walls:
        return s, step_reward, False                  # bumped: stays put
    return r2 * cols + c2, rewards.get((r2, c2), step_reward), (r2, c2) in terminals


def one_hot(states):
    return torch.eye(S, dtype=torch.float64)[states]


q_net = nn.Sequential(nn.Linear(S, {hidden}), nn.ReLU(), nn.Linear({hidden}, A)).double()
target_net = nn.Sequential(nn.Linear(S, {hidden}), nn.ReLU(), nn.Linear({hidden}, A)).double()
target_net.load_state_dict(q_net.state_dict())
opt = torch.optim.Adam(q_net.parameters(), lr={lr})
buffer, capacity, batch_size, target_update, epsilon = [], {buffer}, {batch}, {target_update}, {epsilon}
free = [s for s in range(S) if divmod(s, cols) not in walls and divmod(s, cols) not in terminals]
updates = 0

for episode in range({episodes}):
    s = random.choice(free)                            # exploring starts
    for t in range(100):
        if random.random() < epsilon:                  # epsilon-greedy
            a = random.randrange(A)
        else:
            with torch.no_grad():
                a = q_net(one_hot([s])).argmax().item()
        s2, r, done = step(s, a)
        buffer.append((s, a, r, s2, float(done)))      # experience replay
        buffer = buffer[-capacity:]
        if len(buffer) >= batch_size:
            batch = random.choices(buffer, k=batch_size)
            bs, ba, br, bs2, bd = (torch.tensor(x) for x in zip(*batch))
            with torch.no_grad():                      # the target network's estimate
                y = br.double() + gamma * (1 - bd.double()) * target_net(one_hot(bs2)).max(1).values
            q = q_net(one_hot(bs)).gather(1, ba[:, None]).squeeze(1)
            loss = ((q - y) ** 2).sum() / (batch_size * A)   # MSE on the chosen actions
            opt.zero_grad()
            loss.backward()
            opt.step()
            updates += 1
            if updates % target_update == 0:
                target_net.load_state_dict(q_net.state_dict())
        s = s2
        if done:
            break

with torch.no_grad():
    print(q_net(one_hot(list(range(S)))).argmax(1).reshape(rows, cols))   # 0 up 1 down 2 left 3 right
'''


def dqn_code(spec: GridSpec, seed: int, *, hidden: int, lr: float, buffer: int, batch: int,
             target_update: int, epsilon, episodes: int) -> str:
    """Runnable PyTorch DQN for the grid `spec` with the lab's hyperparameters (the DQN view's
    model passes its own)."""
    return DQN_TEMPLATE.format(
        rows=spec.rows, cols=spec.cols, gamma=spec.gamma, slip=spec.slip, step=spec.step_reward,
        walls=sorted(spec.walls), terminals=sorted(spec.terminals), rewards=dict(spec.rewards),
        teleports={src: (dst, r) for src, dst, r in spec.teleports}, seed=seed, hidden=hidden,
        lr=lr, buffer=buffer, batch=batch, target_update=target_update, epsilon=epsilon,
        episodes=episodes,
    )
