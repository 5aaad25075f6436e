"""Dynamic routing: gradients through every iteration, forward against a plain loop, the softmax axis."""

import numpy
import pytest

from lcn_np.gradcheck import assert_gradients_close
from lcn_np.ops import routing_backward, routing_coupling, routing_forward


def loop_routing(u_hat, iterations, agreement, softmax_axis=2, eps=1e-7):
    """Procedure 1 of Sabour et al., written out capsule by capsule."""
    N, I, J, D = u_hat.shape
    b = numpy.zeros((N, I, J))
    for r in range(iterations):
        e = numpy.exp(b - b.max(axis=softmax_axis, keepdims=True))
        c = e / e.sum(axis=softmax_axis, keepdims=True)
        v = numpy.zeros((N, J, D))
        for n in range(N):
            for j in range(J):
                s = sum(c[n, i, j] * u_hat[n, i, j] for i in range(I))
                sq = s @ s
                v[n, j] = sq / (1 + sq) * s / numpy.sqrt(sq + eps)
        if r < iterations - 1:
            for n in range(N):
                for i in range(I):
                    for j in range(J):
                        a = u_hat[n, i, j] @ v[n, j]
                        if agreement == "cosine":
                            a /= numpy.sqrt(u_hat[n, i, j] @ u_hat[n, i, j] + eps) * numpy.sqrt(v[n, j] @ v[n, j] + eps)
                        b[n, i, j] += a
    return v, c


@pytest.mark.parametrize("agreement", ["dot", "cosine"])
@pytest.mark.parametrize("iterations", [1, 2, 3])
def test_gradient_through_unrolled_iterations(xp, rng, agreement, iterations):
    u_hat = xp.asarray(rng.standard_normal((3, 7, 5, 11)) * 0.7)
    assert_gradients_close(routing_forward, routing_backward, [u_hat], names=["u_hat"],
                           kwargs=dict(iterations=iterations, agreement=agreement))


@pytest.mark.parametrize("agreement", ["dot", "cosine"])
def test_forward_matches_loop_and_softmax_is_over_outputs(rng, agreement):
    u_hat = rng.standard_normal((2, 7, 5, 3))
    v, cache = routing_forward(u_hat, 3, agreement)
    v_ref, c_ref = loop_routing(u_hat, 3, agreement)
    numpy.testing.assert_allclose(v, v_ref, rtol=1e-10, atol=1e-12)
    numpy.testing.assert_allclose(routing_coupling(cache), c_ref, rtol=1e-10)
    numpy.testing.assert_allclose(routing_coupling(cache).sum(axis=2), 1, rtol=1e-12)
    v_wrong_axis, _ = loop_routing(u_hat, 3, agreement, softmax_axis=1)
    assert not numpy.allclose(v, v_wrong_axis, rtol=1e-3)


def test_one_iteration_is_uniform_coupling(rng):
    u_hat = rng.standard_normal((2, 7, 5, 3))
    v, cache = routing_forward(u_hat, 1)
    numpy.testing.assert_allclose(routing_coupling(cache), 1 / 5)


def test_cosine_keeps_logits_bounded(rng):
    u_hat = rng.standard_normal((1, 6, 4, 3)) * 100      # long predictions: dot agreement saturates
    c_dot = routing_coupling(routing_forward(u_hat, 3, "dot")[1])
    c_cos = routing_coupling(routing_forward(u_hat, 3, "cosine")[1])
    assert c_dot.max() > 0.999 and c_cos.max() < 0.99


def test_dtype_and_errors(rng):
    u_hat = rng.standard_normal((2, 7, 5, 3)).astype(numpy.float32)
    v, cache = routing_forward(u_hat, 3, "cosine")
    assert v.dtype == numpy.float32 and routing_backward(v, cache).dtype == numpy.float32
    with pytest.raises(ValueError, match="agreement must be one of"):
        routing_forward(u_hat, 3, "angle")
    with pytest.raises(ValueError, match="iterations must be an integer"):
        routing_forward(u_hat, 0)
    with pytest.raises(ValueError, match=r"u_hat: expected a 4-D array of shape \(N, I, J, D\)"):
        routing_forward(u_hat[0])
