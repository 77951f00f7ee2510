"""core.recurrent's network, trainer and tasks: gradients against central differences and
against core.tensor's autograd through its own cells (gradcheck), replays, the memory task."""

from __future__ import annotations

import numpy as np
import pytest

from core.recurrent import (PETER_RABBIT, CharCorpus, RecurrentNet, Trainer, bptt,
                            clip_grad_norm, init_weights, open_gate, recall_batch, sample, unroll)
from core.recurrent.kernels import matmul, matmul_tn


def test_single_thread_products_match_numpy():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(7, 5)), rng.normal(size=(5, 3)), rng.normal(size=(7, 3))
    np.testing.assert_allclose(matmul(a, b), a @ b, atol=1e-12)
    np.testing.assert_allclose(matmul(a.reshape(7, 1, 5), b), (a @ b).reshape(7, 1, 3), atol=1e-12)
    np.testing.assert_allclose(matmul_tn(a, c), a.T @ c, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("every_step", [False, True])
def test_loss_gradient_matches_central_differences(cell, every_step):
    net = RecurrentNet(cell, 5, 4, 4, seed=1)
    x, labels = recall_batch(6, 3, seed=0)
    targets = np.random.default_rng(2).integers(0, 4, size=(6, 3)) if every_step else labels
    mask = np.ones((6, 3))
    mask[4:, 1] = 0
    loss, grad, _, _ = net.loss_and_grad(x, targets, every_step, mask)
    numeric = np.zeros_like(grad)
    for i in range(grad.size):
        old = net.theta[i]
        net.theta[i] = old + 1e-6
        up = net.loss_and_grad(x, targets, every_step, mask)[0]
        net.theta[i] = old - 1e-6
        down = net.loss_and_grad(x, targets, every_step, mask)[0]
        net.theta[i] = old
        numeric[i] = (up - down) / 2e-6
    np.testing.assert_allclose(grad, numeric, atol=1e-7)
    assert loss == pytest.approx(net.loss_and_grad(x, targets, every_step, mask)[0])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bptt_matches_core_tensor_autograd_and_gradcheck(cell):
    """The hand-written BPTT against core.tensor's cells unrolled with autograd."""
    from core.tensor import gradcheck, tensor
    from core.tensor import nn as tnn

    T, B, D, H = 5, 2, 3, 4
    w = init_weights(cell, D, H, seed=3)
    x = np.random.default_rng(4).normal(size=(T, B, D))
    G = np.random.default_rng(5).normal(size=(T, B, H))
    grads = bptt(unroll(cell, w, x), G)

    module = {"rnn": tnn.RNNCell, "lstm": tnn.LSTMCell, "gru": tnn.GRUCell}[cell](D, H)
    for name, value in w.items():
        getattr(module, name).data[...] = value

    def run(*weights):
        for name, p in zip(sorted(w), weights):
            setattr(module, name, p)
        state, loss = None, 0.0
        for t in range(T):
            state = module(tensor(x[t]), state)
            h = state[0] if cell == "lstm" else state
            loss = loss + (h * tensor(G[t])).sum()
        return loss

    params = [tensor(w[name], requires_grad=True) for name in sorted(w)]
    run(*params).backward()
    for name, p in zip(sorted(w), params):
        np.testing.assert_allclose(grads.weights[name], p.grad, atol=1e-10)
    assert gradcheck(run, [tensor(w[name], requires_grad=True) for name in sorted(w)])


def test_trainer_replays_from_a_checkpoint():
    net = RecurrentNet("gru", 5, 6, 4, seed=0)
    trainer = Trainer(net, lambda s: (*recall_batch(8, 4, seed=0, step=s), None), lr=0.02, clip=1.0)
    start = trainer.checkpoint()
    infos = [trainer.step() for _ in range(3)]
    after = net.theta.copy()
    trainer.restore(start)
    again = [trainer.step() for _ in range(3)]
    np.testing.assert_array_equal(net.theta, after)
    assert [i.loss for i in infos] == [i.loss for i in again]


def test_clipping_rescales_to_the_threshold_and_returns_the_norm():
    g = np.array([3.0, 4.0])
    assert clip_grad_norm(g, 1.0) == 5.0
    np.testing.assert_allclose(np.linalg.norm(g), 1.0, atol=1e-6)
    small = np.array([0.3, 0.4])
    assert clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small, [0.3, 0.4])


def test_recall_batch_is_seeded_and_marks_the_first_symbol():
    x, labels = recall_batch(10, 6, n_symbols=4, noise=0.5, seed=1, step=3)
    assert x.shape == (10, 6, 5) and labels.shape == (6,)
    np.testing.assert_array_equal(x[0, np.arange(6), labels], 1.0)
    np.testing.assert_array_equal(x[0, :, 4], 1.0)
    assert np.all(x[1:, :, 4] == 0)
    x2, labels2 = recall_batch(10, 6, n_symbols=4, noise=0.5, seed=1, step=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(labels, labels2)
    with pytest.raises(ValueError, match="length"):
        recall_batch(0, 2)
    with pytest.raises(ValueError, match="noise"):
        recall_batch(5, 2, noise=float("nan"))


def test_memory_task_is_solved_by_an_lstm_with_an_open_forget_gate():
    """T = 20: an LSTM (forget-gate bias 5, seed 0) recalls x₁ after 250 Adam steps."""
    net = RecurrentNet("lstm", 5, 16, 4, seed=0)
    open_gate(net, 5.0)
    trainer = Trainer(net, lambda s: (*recall_batch(20, 32, seed=0, step=s), None), lr=0.02, clip=1.0)
    accuracy = [trainer.step().accuracy for _ in range(250)]
    assert np.mean(accuracy[:20]) < 0.5
    assert np.mean(accuracy[-20:]) > 0.95


def test_char_corpus_and_sampling():
    corpus = CharCorpus(PETER_RABBIT)
    assert corpus.decode(corpus.encode("Peter")) == "Peter"
    x, y = corpus.batch(8, 3, seed=0, step=0)
    assert x.shape == (8, 3, corpus.vocab) and y.shape == (8, 3)
    np.testing.assert_array_equal(x.argmax(-1)[1:], y[:-1])  # targets are the next characters
    net = RecurrentNet("gru", corpus.vocab, 8, corpus.vocab, seed=0)
    a = sample(net, corpus, "Peter ", 30, temperature=0.8, seed=1)
    assert len(a) == 30 and a == sample(net, corpus, "Peter ", 30, temperature=0.8, seed=1)
    # a very low temperature is greedy: every seed gives the same text
    assert sample(net, corpus, "Peter ", 20, 1e-3, seed=1) == sample(net, corpus, "Peter ", 20, 1e-3, seed=2)
    with pytest.raises(ValueError, match="temperature"):
        sample(net, corpus, "Peter", 5, temperature=0.0)
    with pytest.raises(ValueError, match="alphabet"):
        corpus.encode("Z#")
