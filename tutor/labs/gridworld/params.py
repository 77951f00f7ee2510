"""Parameters of the Gridworld lab that lessons may set (plain Python: no Textual or numba)."""

from __future__ import annotations

from tutor.labs.params import Param

#: The core packages whose kernels the lab calls (the lesson mounts it once they are warm).
CORE_PACKAGES = ("rl", "nn", "optim")  # dqn mode: core.nn networks, core.optim updates
PRESETS = ("notes", "corners", "cliff", "maze", "teleport", "slippery", "open")
MODES = ("value_iteration", "random_policy", "q_learning")
#: Largest grid side the lab edits and draws.
MAX_SIDE = 30
#: Most Q-learning episodes per step (about 8 ms on a 30 x 30 grid: one frame, no worker needed).
MAX_EPISODES = 200

PARAMS: dict[str, Param] = {
    "preset": Param("str", "notes", "the starting grid: the notes' 5x5 (reward -1 per step), "
                    "a 4x4 with terminal corners, the cliff, a maze, the +10/+5 teleport grid, "
                    "a slippery 3x4, or an open grid", choices=PRESETS),
    "rows": Param("int", 0, "grid rows (0 keeps the preset's)", min=0, max=MAX_SIDE),
    "cols": Param("int", 0, "grid columns (0 keeps the preset's)", min=0, max=MAX_SIDE),
    "gamma": Param("float", -1.0, "discount factor γ in [0, 1] (-1 keeps the preset's)",
                   min=-1.0, max=1.0),
    "slip": Param("float", -1.0, "probability a move goes sideways instead, in [0, 1] (-1 keeps "
                  "the preset's)", min=-1.0, max=1.0),
    "mode": Param("str", "value_iteration", "value iteration sweeps, evaluation of the uniform "
                  "random policy, a Q-learning agent, or deep Q-learning (dqn: a Q-network with "
                  "replay and a target network; γ -1 means 0.9 there)",
                  choices=MODES + ("dqn",)),
    "show_q": Param("bool", False, "draw the four Q-values around each cell"),
    "epsilon": Param("float", 0.2, "Q-learning: exploration rate ε", min=0.0, max=1.0),
    "alpha": Param("float", 0.5, "Q-learning: learning rate α", min=0.0, max=1.0),
    "episodes": Param("int", 1, "Q-learning: episodes per step (the agent's speed; 0 walks "
                      "one move per step)", min=0, max=MAX_EPISODES),
    "seed": Param("int", 0, "Q-learning: random seed", min=0),
    "select": Param("list[float]", [], "[row, col] of the cell selected at the start ([]: none)"),
    "sweeps": Param("int", 0, "sweeps (or Q-learning steps) done before the lab is shown",
                    min=0, max=1000),
}
