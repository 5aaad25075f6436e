"""The one op contract of :mod:`lcn_np.ops`, checked for every pair through one table and one code path.

    out, cache = name_forward(*args, **kwargs)
    grads = name_backward(dout, cache)   # a bare array for one differentiable argument, else a tuple
    grads = name_backward(cache)         # losses (0-d out)

A pair that is exported but missing from ``CASES`` fails the first test, so a new op cannot skip this.
Every check runs on each array library of the ``xp`` fixture: NumPy, the strict CuPy stand-in, and
CuPy where a GPU exists — so every op's forward, backward and gradient check runs under CuPy's rules.
"""

import numpy
import pytest

from lcn_np import ops
from lcn_np.backend import array_module
from lcn_np.gradcheck import check_gradients


def f64(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# name → factory(rng) returning (args, kwargs, names of the differentiable arguments, in order)
CASES = {
    "power_spectrogram": lambda r: ([f64(r, 2, 61)], dict(n_fft=16, hop_length=5, win_length=11), ["x"]),
    "conv2d": lambda r: ([f64(r, 2, 3, 7, 9), f64(r, 4, 3, 3, 3), f64(r, 4)], dict(stride=2, padding=1),
                         ["x", "w", "b"]),
    "depthwise_conv2d": lambda r: ([f64(r, 2, 3, 7, 9), f64(r, 3, 1, 3, 3), f64(r, 3)],
                                   dict(stride=1, padding=(0, 1, 1, 0)), ["x", "w", "b"]),
    "pointwise_conv2d": lambda r: ([f64(r, 2, 3, 5, 7), f64(r, 4, 3, 1, 1), f64(r, 4)], {}, ["x", "w", "b"]),
    "maxpool2d": lambda r: ([f64(r, 2, 3, 7, 9)], dict(size=2, stride=2), ["x"]),
    "global_avgpool": lambda r: ([f64(r, 2, 3, 5, 7)], {}, ["x"]),
    "relu": lambda r: ([f64(r, 3, 5, 7)], {}, ["x"]),
    "relu6": lambda r: ([f64(r, 3, 5, 7, scale=4.0)], {}, ["x"]),
    "batchnorm2d": lambda r: ([f64(r, 4, 3, 5, 7), r.uniform(0.5, 1.5, 3), f64(r, 3), numpy.zeros(3), numpy.ones(3)],
                              dict(train=True), ["x", "gamma", "beta"]),
    "linear": lambda r: ([f64(r, 5, 7), f64(r, 3, 7), f64(r, 3)], {}, ["x", "w", "b"]),
    "squash": lambda r: ([f64(r, 3, 5, 7)], {}, ["s"]),
    "capsule_predict": lambda r: ([f64(r, 3, 7, 4), f64(r, 7, 5, 6, 4)], {}, ["u", "w"]),
    "capsule_length": lambda r: ([f64(r, 3, 5, 7)], {}, ["v"]),
    "routing": lambda r: ([f64(r, 2, 7, 3, 5, scale=0.5)], dict(iterations=3, agreement="cosine"), ["u_hat"]),
    "margin_loss": lambda r: ([r.uniform(0.15, 0.85, (5, 4)), r.integers(0, 4, 5)], {}, ["lengths"]),
    "softmax_cross_entropy": lambda r: ([f64(r, 5, 4), r.integers(0, 4, 5)], {}, ["logits"]),
}


def pair(name):
    return getattr(ops, f"{name}_forward"), getattr(ops, f"{name}_backward")


def case(name, seed, xp, dtype=None):
    """The table's arguments for ``name``, moved onto ``xp`` (and floating ones cast to ``dtype``)."""
    args, kwargs, diff = CASES[name](numpy.random.default_rng(seed))
    if dtype is not None:
        args = [a.astype(dtype) if a.dtype.kind == "f" else a for a in args]
    return [xp.asarray(a) for a in args], kwargs, diff


def run_pair(name, args, kwargs):
    """Forward, then backward with dout = 1 (losses: from the cache alone); returns (out, cache, grads)."""
    forward, backward = pair(name)
    out, cache = forward(*args, **kwargs)
    xp = array_module(out)
    return out, cache, backward(cache) if name in ops.LOSSES else backward(xp.ones_like(out), cache)


def test_every_exported_pair_is_in_the_table_and_every_forward_has_its_backward():
    exported = {n[:-len("_forward")] for n in dir(ops) if n.endswith("_forward")}
    assert {n[:-len("_backward")] for n in dir(ops) if n.endswith("_backward")} == exported
    assert exported == set(ops.PAIRS)
    assert sorted(exported) == sorted(CASES), f"missing from CASES: {exported - set(CASES)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward_returns_one_gradient_per_differentiable_argument(name, xp):
    args, kwargs, diff = case(name, 0, xp)
    out, cache, grads = run_pair(name, args, kwargs)
    assert isinstance(cache, dict) and array_module(out) is xp
    if name in ops.LOSSES:
        assert out.ndim == 0
    if len(diff) == 1:
        assert not isinstance(grads, tuple), "one differentiable argument: a bare array"
        grads = (grads,)
    else:
        assert isinstance(grads, tuple) and len(grads) == len(diff)
    for g, a in zip(grads, args):
        assert g.shape == a.shape and g.dtype == a.dtype and array_module(g) is xp


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_check_float64_odd_sizes(name, xp):
    forward, backward = pair(name)
    args, kwargs, diff = case(name, 1, xp)
    report = check_gradients(forward, backward, args, kwargs=kwargs, names=diff + ["-"] * (len(args) - len(diff)),
                             wrt=list(range(len(diff))))
    assert report.ok, str(report)


@pytest.mark.parametrize("name", ["conv2d", "depthwise_conv2d", "pointwise_conv2d", "linear"])
def test_an_absent_bias_gets_none_in_its_place(name, xp):
    args, kwargs, _ = case(name, 2, xp)
    _, _, (dx, dw, db) = run_pair(name, args[:2] + [None], kwargs)
    assert db is None and dx.shape == args[0].shape and dw.shape == args[1].shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_stays_float32(name, xp):
    out, _, grads = run_pair(name, *case(name, 3, xp, numpy.float32)[:2])
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert out.dtype == numpy.float32 and all(g.dtype == numpy.float32 for g in grads if g is not None)
