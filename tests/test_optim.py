"""Optimisers against hand-computed updates; schedules; frozen prefixes; state round trip."""

import numpy
import pytest

from lcn_np.optim import SGD, Adam, clip_grad_norm, lr_at, make_optimizer


def params_fn(p, g):
    return lambda: {"frontend.w": (p, g), "digit.W": (p2, g2)}


p2, g2 = numpy.zeros(2), numpy.zeros(2)


def test_sgd_momentum_by_hand():
    p, g = numpy.array([1.0, -2.0]), numpy.array([0.5, 0.25])
    opt = SGD(params_fn(p, g), lr=0.1, momentum=0.9, weight_decay=0.01)
    opt.step()
    m1 = g + 0.01 * numpy.array([1.0, -2.0])
    numpy.testing.assert_allclose(p, [1.0, -2.0] - 0.1 * m1)
    before = p.copy()
    opt.step()
    m2 = 0.9 * m1 + g + 0.01 * before
    numpy.testing.assert_allclose(p, before - 0.1 * m2)


@pytest.mark.parametrize("decoupled", [True, False])
def test_adam_first_steps_by_hand(decoupled):
    p, g = numpy.array([1.0, -2.0]), numpy.array([0.5, -0.25])
    opt = Adam(params_fn(p, g), lr=0.1, weight_decay=0.1, decoupled=decoupled)
    opt.step()
    if decoupled:      # AdamW: decay the weights, then the Adam step on the raw gradient (m̂/sqrt(v̂) = sign g)
        expected = numpy.array([1.0, -2.0]) * (1 - 0.01) - 0.1 * numpy.sign(g) * (1 / (1 + 1e-8 / numpy.abs(g)))
    else:              # L2: the decay goes into the gradient, which Adam then normalises
        gg = g + 0.1 * numpy.array([1.0, -2.0])
        expected = numpy.array([1.0, -2.0]) - 0.1 * gg / (numpy.abs(gg) + 1e-8)
    numpy.testing.assert_allclose(p, expected, rtol=1e-7)


def test_frozen_prefix_is_not_updated():
    p, g = numpy.ones(2), numpy.ones(2)
    opt = make_optimizer("adamw", params_fn(p, g), 0.1)
    opt.frozen = {"frontend."}
    g2[:] = 1
    opt.step()
    assert numpy.all(p == 1) and numpy.all(p2 != 0)


def test_state_dict_round_trip():
    p, g = numpy.ones(2), numpy.full(2, 0.3)
    a = Adam(params_fn(p, g), lr=0.1)
    a.step()
    b = Adam(params_fn(p.copy(), g), lr=0.1)
    b.load_state_dict(a.state_dict())
    assert b.t == 1 and numpy.array_equal(b.state["frontend.w"]["v"], a.state["frontend.w"]["v"])


def test_schedules():
    assert lr_at(5, 100, 0.1, "constant") == 0.1
    assert lr_at(0, 100, 0.1, "onecycle") == pytest.approx(0.1 / 25)
    assert lr_at(30, 100, 0.1, "onecycle") == pytest.approx(0.1)
    assert lr_at(99, 100, 0.1, "onecycle") < 0.001
    assert lr_at(50, 100, 0.1, "cosine") < lr_at(20, 100, 0.1, "cosine")
    with pytest.raises(ValueError, match="schedule must be"):
        lr_at(0, 10, 0.1, "step")


def test_clip_grad_norm():
    g = numpy.array([3.0, 4.0])
    g2[:] = 0
    norm = clip_grad_norm(lambda: {"a": (None, g), "b": (None, g2)}, 1.0)
    assert norm == pytest.approx(5.0) and numpy.linalg.norm(g) == pytest.approx(1.0)


def test_clip_grad_norm_refuses_nan():
    g = numpy.array([numpy.nan, 1.0])
    with pytest.raises(FloatingPointError, match="gradient of a is NaN"):
        clip_grad_norm(lambda: {"a": (None, g), "b": (None, numpy.ones(2))}, 1.0)
