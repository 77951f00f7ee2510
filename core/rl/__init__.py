"""Markov decision processes and their solution (chapter 8): MDP, Gridworld, value iteration,
policy evaluation and iteration, Q-functions, tabular Q-learning and deep Q-learning (DQN).

>>> from core.rl import Gridworld, value_iteration
>>> grid = Gridworld(5, 5, terminals=[(0, 0), (4, 4)], step_reward=-1.0)
>>> result = value_iteration(grid, gamma=1.0)
>>> float(result.V[grid.state(2, 2)])
-4.0
"""

from core.rl.dqn import DQN, DQNEpisode, Transition, dqn
from core.rl.gridworld import ACTIONS, ARROWS, Gridworld
from core.rl.mdp import MDP
from core.rl.planning import (
    PolicyIterationResult,
    Sweep,
    ValueIterationResult,
    as_stochastic,
    greedy_actions,
    greedy_policy,
    policy_evaluation,
    policy_evaluation_sweeps,
    policy_iteration,
    policy_iteration_steps,
    q_function,
    value_iteration,
    value_iteration_sweeps,
)
from core.rl.qlearning import Episode, QLearner, q_learning

__all__ = [
    "ACTIONS",
    "ARROWS",
    "DQN",
    "DQNEpisode",
    "MDP",
    "Episode",
    "Gridworld",
    "PolicyIterationResult",
    "QLearner",
    "Sweep",
    "Transition",
    "ValueIterationResult",
    "as_stochastic",
    "dqn",
    "greedy_actions",
    "greedy_policy",
    "policy_evaluation",
    "policy_evaluation_sweeps",
    "policy_iteration",
    "policy_iteration_steps",
    "q_function",
    "q_learning",
    "value_iteration",
    "value_iteration_sweeps",
]
