"""The losses lab: MSE vs cross-entropy, naive vs log-sum-exp (notes 3.2)."""
