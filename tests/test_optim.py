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


@pytest.mark.parametrize("name", ["sgd", "adamw"])
def test_lr_scale_multiplies_the_step_of_its_prefix_only(name):
    """--frontend-lr: the front end moves by factor × the step the capsule head takes on the same gradient
    (first AdamW step: η·λ decay and η·sign g; first SGD step: η·g), and no factor leaves both alike."""
    rng = numpy.random.default_rng(3)
    start, grad = rng.uniform(0.5, 1.5, 5), rng.uniform(0.2, 0.9, 5)
    pf, ph = start.copy(), start.copy()
    opt = make_optimizer(name, lambda: {"frontend.conv.w": (pf, grad), "capsules.W": (ph, grad)}, 0.05, 0.01)
    opt.lr_scale = {"frontend.": 0.1}
    opt.step()
    numpy.testing.assert_allclose(start - pf, 0.1 * (start - ph), rtol=1e-6)
    assert numpy.all(start - ph > 0)
    assert opt.lr_for("frontend.x") == pytest.approx(0.005) and opt.lr_for("capsules.W") == 0.05


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


@pytest.mark.parametrize("name", ["sgd", "adamw"])
def test_weight_average_by_hand_and_swap(name):
    p, g = numpy.array([1.0, -2.0, 0.5]), numpy.array([0.5, -0.25, 0.125])
    q, h = numpy.array([0.3, 0.7]), numpy.array([-0.1, 0.2])
    params = lambda: {"a": (p, g), "b": (q, h)}                       # noqa: E731
    opt = make_optimizer(name, params, 0.1, 0.0, ema=0.9)
    seen = []
    for _ in range(3):
        opt.step()
        seen.append(p.copy())
    expected = seen[0]                                  # θ̄ starts at the first θ, then θ̄ ← 0.9 θ̄ + 0.1 θ
    for theta in seen[1:]:
        expected = 0.9 * expected + 0.1 * theta
    numpy.testing.assert_allclose(opt.state["a"]["ema"], expected)
    raw = p.copy()
    with opt.averaged():
        numpy.testing.assert_allclose(p, expected)      # the same array object, now holding θ̄
    numpy.testing.assert_array_equal(p, raw)            # and back
    with pytest.raises(RuntimeError):
        with opt.averaged():
            raise RuntimeError("an error inside the block still restores the weights")
    numpy.testing.assert_array_equal(p, raw)
    other = make_optimizer(name, params, 0.1, 0.0, ema=0.9)
    other.load_state_dict(opt.state_dict())             # the average is resumed with the optimiser
    numpy.testing.assert_array_equal(other.state["a"]["ema"], opt.state["a"]["ema"])


def test_weight_average_off_changes_nothing_and_bad_beta_is_refused():
    p, g = numpy.ones(2), numpy.full(2, 0.3)
    opt = Adam(lambda: {"a": (p, g)}, lr=0.1)
    opt.step()
    assert "ema" not in opt.state["a"]
    before = p.copy()
    with opt.averaged():
        numpy.testing.assert_array_equal(p, before)
    with pytest.raises(ValueError, match="ema"):
        Adam(lambda: {"a": (p, g)}, lr=0.1, ema=1.0)
