"""The Gridworld lab: value iteration sweep by sweep, Bellman backups, Q-learning (chapter 8)."""
