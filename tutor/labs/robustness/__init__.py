"""The robustness lab (chapter 7): adversarial examples, Lipschitz bounds, regularization."""
