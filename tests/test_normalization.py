"""Batch normalisation: gradients in train and eval mode, running statistics, torch agreement."""

import numpy
import pytest

from lcn_np.gradcheck import assert_gradients_close
from lcn_np.ops import batchnorm2d_backward, batchnorm2d_forward


def bn_args(xp, rng, C=3):
    return [xp.asarray(rng.standard_normal((4, C, 5, 7)) * 2 + 1), xp.asarray(rng.uniform(0.5, 1.5, C)),
            xp.asarray(rng.standard_normal(C)), xp.zeros(C), xp.ones(C)]


@pytest.mark.parametrize("train", [True, False])
def test_gradients(xp, rng, train):
    args = bn_args(xp, rng)
    args[3][:] = xp.asarray(rng.standard_normal(3))
    assert_gradients_close(batchnorm2d_forward, batchnorm2d_backward, args,
                           names=["x", "gamma", "beta", "running_mean", "running_var"], kwargs=dict(train=train),
                           tol=1e-5)  # dx is a difference of nearly equal terms: finite differences lose ~2 digits


def test_forward_and_running_stats_match_torch(rng):
    torch = pytest.importorskip("torch")
    x, g, b, rm, rv = bn_args(numpy, rng)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    theirs = torch.nn.functional.batch_norm(torch.from_numpy(x), trm, trv, torch.from_numpy(g), torch.from_numpy(b),
                                            training=True, momentum=0.1, eps=1e-5)
    ours = batchnorm2d_forward(x, g, b, rm, rv, train=True)[0]
    numpy.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)
    numpy.testing.assert_allclose(rm, trm.numpy(), rtol=1e-12)
    numpy.testing.assert_allclose(rv, trv.numpy(), rtol=1e-12)
    ours = batchnorm2d_forward(x, g, b, rm, rv, train=False)[0]
    theirs = torch.nn.functional.batch_norm(torch.from_numpy(x), trm, trv, torch.from_numpy(g), torch.from_numpy(b),
                                            training=False, eps=1e-5)
    numpy.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


def test_training_output_is_normalised(rng):
    x, g, b, rm, rv = bn_args(numpy, rng)
    out = batchnorm2d_forward(x, numpy.ones(3), numpy.zeros(3), rm, rv)[0]
    numpy.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    numpy.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, rtol=1e-4)


def test_dtype_and_errors(rng):
    x, g, b, rm, rv = [a.astype(numpy.float32) for a in bn_args(numpy, rng)]
    out, cache = batchnorm2d_forward(x, g, b, rm, rv)
    assert out.dtype == numpy.float32 and all(d.dtype == numpy.float32 for d in batchnorm2d_backward(out, cache))
    with pytest.raises(ValueError, match=r"gamma: expected shape \(3,\)"):
        batchnorm2d_forward(x, g[:2], b, rm, rv)
    with pytest.raises(ValueError, match="more than one value per channel"):
        batchnorm2d_forward(x[:1, :, :1, :1], g, b, rm, rv)
