"""core.generative flows: log-dets vs numerical Jacobians, inverses, gradients, likelihood."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.numeric import numeric_grad

from core.generative import (AffineCoupling, Flow, FlowTrainer, Monotone1D, PlanarFlow,
                             grad_log_density_2d, log_density_2d, sample_2d)
from core.generative.flows import standard_normal_log_prob


def _jacobian(f, z, h=1e-6):
    J = np.zeros((z.size, z.size))
    for j in range(z.size):
        e = np.zeros(z.size)
        e[j] = h
        J[:, j] = (f(z + e) - f(z - e)) / (2 * h)
    return J


def _layers():
    return [PlanarFlow(2, seed=3), PlanarFlow(3, seed=4, scale=2.0),
            AffineCoupling(2, (8,), seed=2), AffineCoupling(2, (8,), mask=[0, 1], seed=5),
            AffineCoupling(3, (8, 8), mask=[1, 0, 1], seed=6)]


@pytest.mark.parametrize("layer", _layers(), ids=lambda l: f"{type(l).__name__}{l.d}")
def test_log_det_is_log_abs_det_of_the_numerical_jacobian(layer):
    rng = np.random.default_rng(0)
    layer.theta[:] += 0.5 * rng.standard_normal(layer.theta.size)  # away from the initial values
    z = 1.5 * rng.standard_normal((6, layer.d))
    _, log_det = layer.forward(z)
    for i in range(len(z)):
        J = _jacobian(lambda v: layer.forward(v[None])[0][0], z[i])
        assert log_det[i] == pytest.approx(math.log(abs(np.linalg.det(J))), abs=1e-6)


def test_planar_flow_stays_invertible_and_has_no_inverse():
    layer = PlanarFlow(2, seed=0)
    layer.theta[:2] = [1.0, 0.0]          # w
    layer.theta[2:4] = [-5.0, 0.0]        # u with wᵀu = −5 < −1 would fold the plane
    assert float(layer.u_hat() @ layer.w) >= -1.0
    z = np.linspace(-3, 3, 50)[:, None] * np.array([[1.0, 0.0]])
    x, _ = layer.forward(z)
    assert np.all(np.diff(x[:, 0]) > 0)   # monotone along w: no fold
    with pytest.raises(NotImplementedError):
        layer.inverse(z)


def test_coupling_inverse_and_the_triangular_jacobian():
    layer = AffineCoupling(2, (8,), mask=[1, 0], seed=1)
    layer.theta[:] += 0.3 * np.random.default_rng(1).standard_normal(layer.theta.size)
    z = np.random.default_rng(2).standard_normal((20, 2)) * 2
    x, _ = layer.forward(z)
    np.testing.assert_allclose(layer.inverse(x), z, atol=1e-12)
    np.testing.assert_array_equal(x[:, 0], z[:, 0])      # the kept coordinate passes through
    J = _jacobian(lambda v: layer.forward(v[None])[0][0], z[0])
    assert J[0, 1] == pytest.approx(0.0, abs=1e-9) and J[0, 0] == pytest.approx(1.0)


def test_flow_composes_log_dets_and_inverts():
    flow = Flow([AffineCoupling(2, (8,), mask=[1, 0] if k % 2 == 0 else [0, 1], seed=k)
                 for k in range(4)])
    flow.theta[:] += 0.3 * np.random.default_rng(0).standard_normal(flow.theta.size)
    z = np.random.default_rng(3).standard_normal((10, 2))
    x, log_det = flow.forward(z)
    np.testing.assert_allclose(flow.inverse(x), z, atol=1e-10)
    xs, lds = flow.forward_layers(z)
    assert len(xs) == 5 and len(lds) == 4
    np.testing.assert_allclose(np.sum(lds, axis=0), log_det)
    J = _jacobian(lambda v: flow.forward(v[None])[0][0], z[0])
    assert log_det[0] == pytest.approx(math.log(abs(np.linalg.det(J))), abs=1e-6)
    np.testing.assert_allclose(flow.log_prob(x), standard_normal_log_prob(z) - log_det, atol=1e-10)


def test_log_prob_integrates_to_one():
    flow = Flow([AffineCoupling(2, (8,), mask=[1, 0] if k % 2 == 0 else [0, 1], seed=k)
                 for k in range(3)])
    flow.theta[:] += 0.1 * np.random.default_rng(0).standard_normal(flow.theta.size)
    g = np.linspace(-8, 8, 321)
    gx, gy = np.meshgrid(g, g)
    p = np.exp(flow.log_prob(np.column_stack([gx.ravel(), gy.ravel()])))
    assert p.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=2e-3)


def test_maximum_likelihood_gradient_matches_central_differences():
    flow = Flow([AffineCoupling(2, (6,), mask=[1, 0], seed=0),
                 AffineCoupling(2, (6,), mask=[0, 1], seed=1)])
    flow.theta[:] += 0.3 * np.random.default_rng(0).standard_normal(flow.theta.size)
    x = np.random.default_rng(1).standard_normal((7, 2))
    loss, grad = flow.nll_and_grad(x)
    assert loss == pytest.approx(-flow.log_prob(x).mean())
    np.testing.assert_allclose(grad, numeric_grad(lambda: -flow.log_prob(x).mean(), flow.theta),
                               atol=1e-7)


def test_reverse_kl_gradient_matches_central_differences():
    flow = Flow([PlanarFlow(2, seed=s) for s in range(3)])
    z = np.random.default_rng(2).standard_normal((6, 2))
    target = (lambda x: log_density_2d("banana", x), lambda x: grad_log_density_2d("banana", x))

    def loss():
        xs, lds = flow.forward_layers(z)
        return float((standard_normal_log_prob(z) - np.sum(lds, 0) - target[0](xs[-1])).mean())

    value, grad = flow.reverse_kl_and_grad(z, *target)
    assert value == pytest.approx(loss())
    np.testing.assert_allclose(grad, numeric_grad(loss, flow.theta), atol=1e-7)


def test_likelihood_rises_with_training_on_a_fixed_seed():
    data = sample_2d("moons", 256, 0)
    flow = Flow([AffineCoupling(2, (16,), mask=[1, 0] if k % 2 == 0 else [0, 1], seed=k)
                 for k in range(4)])
    before = flow.log_prob(data).mean()
    trainer = FlowTrainer(flow, data=data, lr=1e-2, batch_size=128, seed=0)
    losses = [trainer.step() for _ in range(150)]
    assert np.mean(losses[-20:]) < np.mean(losses[:20]) - 0.4
    assert flow.log_prob(data).mean() > before + 0.4
    c = trainer.checkpoint()
    a = [trainer.step() for _ in range(3)]
    trainer.restore(c)
    assert [trainer.step() for _ in range(3)] == a


def test_planar_flows_fit_a_density_by_reverse_kl():
    flow = Flow([PlanarFlow(2, seed=s) for s in range(6)])
    target = (lambda x: log_density_2d("banana", x), lambda x: grad_log_density_2d("banana", x))
    trainer = FlowTrainer(flow, target=target, lr=1e-2, batch_size=128, seed=0)
    losses = [trainer.step() for _ in range(300)]
    assert np.mean(losses[-30:]) < np.mean(losses[:30]) - 1.0
    assert np.mean(losses[-30:]) > -0.2     # KL ≥ 0 (up to sampling noise)


@pytest.mark.parametrize("kind", ["affine", "exp", "sinh", "split"])
def test_one_dimensional_change_of_variables(kind):
    f = Monotone1D(kind, 1.5)
    z = np.linspace(-2, 2, 41)
    np.testing.assert_allclose(f.inverse(f(z)), z, atol=1e-10)
    h = 1e-6
    np.testing.assert_allclose(f.derivative(z), (f(z + h) - f(z - h)) / (2 * h), rtol=1e-6)
    x = f(np.linspace(-6, 6, 20001))
    p = f.density(x)
    assert np.trapezoid(p, x) == pytest.approx(1.0, abs=1e-4)


def test_flows_reject_hostile_input():
    with pytest.raises(ValueError):
        PlanarFlow(0)
    with pytest.raises(ValueError):
        AffineCoupling(2, mask=[1, 1])
    with pytest.raises(ValueError):
        AffineCoupling(2, mask=[1, 0.5])
    with pytest.raises(ValueError):
        AffineCoupling(2, hidden=[0])
    with pytest.raises(ValueError):
        Flow([])
    with pytest.raises(ValueError):
        Flow([AffineCoupling(2), AffineCoupling(3)])
    layer = AffineCoupling(2)
    for bad in (np.zeros((3, 3)), np.zeros(2), [[np.nan, 0.0]]):
        with pytest.raises(ValueError):
            layer.forward(bad)
    with pytest.raises(ValueError, match="reverse KL"):
        Flow([PlanarFlow(2)]).log_prob(np.zeros((1, 2)))
    with pytest.raises(ValueError):
        FlowTrainer(Flow([AffineCoupling(2)]))
    with pytest.raises(ValueError):
        Monotone1D("cube")
    with pytest.raises(ValueError):
        Monotone1D("affine", 0.0)
    assert Monotone1D("exp", 1.0).density(np.array([-1.0]))[0] == 0.0


def _coupling_nll_in_core_tensor(flow: Flow, x: np.ndarray):
    """The same flow's mean −log p(x) written with core.tensor ops (autodiff, not our backward)."""
    from core.tensor import tensor

    params = [[tensor(p.copy(), requires_grad=True) for p in layer.net.parameters()]
              for layer in flow.layers]
    z = tensor(x)
    total = None
    for layer, ps in zip(reversed(flow.layers), reversed(params)):
        b, free = tensor(layer.mask), tensor(layer.free)
        h = z * b
        for k in range(0, len(ps), 2):
            h = h @ ps[k].T + ps[k + 1]
            if k + 2 < len(ps):
                h = h.tanh()
        raw, t = h[:, :2], h[:, 2:]
        s = raw.tanh() * 2.0 * free
        z = (z - t * free) * (-s).exp()
        ld = s.sum(axis=1)
        total = ld if total is None else total + ld
    nll = ((z * z).sum(axis=1) * 0.5 + math.log(2 * math.pi) + total).mean()
    nll.backward()
    grads = np.concatenate([p.grad.ravel() for ps in params for p in ps])
    return float(nll.data), grads


def test_core_tensor_autodiff_gives_the_same_likelihood_gradient():
    """Training with core.tensor would take the same steps: its autodiff of the flow's
    negative log-likelihood equals the hand-written backward."""
    flow = Flow([AffineCoupling(2, (8, 8), mask=[1, 0] if k % 2 == 0 else [0, 1], seed=k)
                 for k in range(3)])
    flow.theta[:] += 0.2 * np.random.default_rng(0).standard_normal(flow.theta.size)
    x = sample_2d("moons", 64, 0)
    loss, grad = flow.nll_and_grad(x)
    loss_t, grad_t = _coupling_nll_in_core_tensor(flow, x)
    assert loss_t == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(grad_t, grad, rtol=1e-9, atol=1e-12)
