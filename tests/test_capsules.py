"""Squash, capsule predictions and capsule lengths."""

import numpy
import pytest

from lcn_np.ops import (capsule_length_backward, capsule_length_forward, capsule_predict_backward,
                             capsule_predict_forward, squash_backward, squash_forward)
from lcn_np.backend import to_numpy
from lcn_np.gradcheck import assert_gradients_close


def test_squash_gradient(xp, rng):
    s = xp.asarray(rng.standard_normal((3, 5, 7)))
    assert_gradients_close(squash_forward, squash_backward, [s], names=["s"])


def test_squash_gradient_small_and_large_vectors(rng):
    s = rng.standard_normal((4, 9)) * numpy.array([1e-2, 1e-1, 3, 30])[:, None]
    assert_gradients_close(squash_forward, squash_backward, [s], names=["s"])


def test_dot_last_is_the_plain_sum(xp, rng):
    """The einsum behind squash and the capsule length is Σ_d a·b along the last axis, float32 round-off."""
    from lcn_np import ops
    dot_last = ops.capsules.dot_last
    a, b = (xp.asarray(rng.standard_normal((5, 37, 11)).astype(numpy.float32)) for _ in range(2))
    got = dot_last(a, b)
    assert got.shape == (5, 37, 1)
    numpy.testing.assert_allclose(to_numpy(got), to_numpy((a * b).sum(axis=-1, keepdims=True)), rtol=1e-5, atol=1e-5)


def test_squash_is_finite_at_zero():
    s = numpy.zeros((2, 3, 5))
    v, cache = squash_forward(s)
    ds = squash_backward(numpy.ones_like(v), cache)
    assert numpy.all(v == 0) and numpy.all(numpy.isfinite(ds))


def test_squash_length_formula(rng):
    s = rng.standard_normal((6, 8)) * 2
    n = (s ** 2).sum(-1)
    v = squash_forward(s)[0]
    numpy.testing.assert_allclose(numpy.linalg.norm(v, axis=-1), n / (1 + n), rtol=1e-6)
    numpy.testing.assert_allclose(numpy.einsum("nd,nd->n", v, s) / numpy.linalg.norm(v, axis=-1)
                                  / numpy.linalg.norm(s, axis=-1), 1, rtol=1e-12)


def test_predict_gradient(xp, rng):
    u = xp.asarray(rng.standard_normal((3, 7, 4)))
    w = xp.asarray(rng.standard_normal((7, 5, 6, 4)))
    assert_gradients_close(capsule_predict_forward, capsule_predict_backward, [u, w], names=["u", "w"])


def test_predict_forward_matches_definition(rng):
    u, w = rng.standard_normal((3, 7, 4)), rng.standard_normal((7, 5, 6, 4))
    u_hat = capsule_predict_forward(u, w)[0]
    assert u_hat.shape == (3, 7, 5, 6)
    numpy.testing.assert_allclose(u_hat[2, 4, 1], w[4, 1] @ u[2, 4], rtol=1e-12)
    numpy.testing.assert_allclose(u_hat, numpy.einsum("ijdk,nik->nijd", w, u), rtol=1e-12)


def test_length_gradient_and_value(xp, rng):
    v = xp.asarray(rng.standard_normal((3, 5, 7)))
    assert_gradients_close(capsule_length_forward, capsule_length_backward, [v], names=["v"])
    numpy.testing.assert_allclose(to_numpy(capsule_length_forward(v)[0]), to_numpy(((v ** 2).sum(-1) + 1e-7) ** 0.5))


def test_dtype_and_errors(rng):
    u = rng.standard_normal((2, 7, 4)).astype(numpy.float32)
    w = rng.standard_normal((7, 5, 6, 4)).astype(numpy.float32)
    out, cache = capsule_predict_forward(u, w)
    assert out.dtype == numpy.float32 and all(g.dtype == numpy.float32 for g in capsule_predict_backward(out, cache))
    v, cache = squash_forward(u)
    assert v.dtype == numpy.float32 and squash_backward(v, cache).dtype == numpy.float32
    with pytest.raises(ValueError, match=r"w: expected shape \(7, \*, \*, 4\), got \(7, 5, 6, 3\)"):
        capsule_predict_forward(u, w[..., :3])
    with pytest.raises(ValueError, match="v: expected a 3-D array"):
        capsule_length_forward(u[0])
