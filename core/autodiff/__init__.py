"""Scalar computational graphs: build a tape, run forward and backward, see every step (ch. 2).

`Graph`/`Node` record operations by operator overloading; `parse` builds the same tape from
typed text, safely. `numeric` has finite differences and Jacobians, `symbolic` the expression
growth of symbolic differentiation, for comparison.
"""

from core.autodiff.numeric import (
    difference_errors,
    finite_difference,
    gradient_check,
    jacobian,
    jacobian_of,
    linear_layer_jacobian,
    numerical_gradient,
)
from core.autodiff import symbolic
from core.autodiff.ops import FUNCTIONS, OPS
from core.autodiff.parse import ExpressionError, gradients, parse
from core.autodiff.tape import Graph, Node, cos, exp, log, relu, sigmoid, sin, sqrt, tanh
from core.autodiff.tape import abs_ as abs  # noqa: A001 - the course's name for |x|

__all__ = [
    "FUNCTIONS", "OPS", "ExpressionError", "Graph", "Node", "abs", "cos", "difference_errors",
    "exp", "finite_difference", "gradient_check", "gradients", "jacobian", "jacobian_of",
    "linear_layer_jacobian", "log", "numerical_gradient", "parse", "relu", "sigmoid", "sin",
    "sqrt", "symbolic", "tanh",
]
