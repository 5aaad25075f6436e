"""Convolutions: gradient checks, forward against a plain loop, dtype, shape errors."""

import numpy
import pytest

from lcn_np.ops import (conv2d_backward, conv2d_forward, depthwise_conv2d_backward, depthwise_conv2d_forward,
                         pointwise_conv2d_backward, pointwise_conv2d_forward)
from lcn_np.gradcheck import assert_gradients_close

PADDINGS = [(1, 0), (1, 1), (2, 0), (2, 1), (1, (0, 1, 0, 1)), (2, (0, 1, 2, 0))]


def loop_conv(x, w, b, stride, padding, depthwise=False):
    """The definition, one output element at a time (tiny inputs only)."""
    t, bt, l, r = (padding,) * 4 if isinstance(padding, int) else padding
    xpad = numpy.pad(x, ((0, 0), (0, 0), (t, bt), (l, r)))
    N, C = x.shape[:2]
    Cout, _, kh, kw = w.shape
    Ho, Wo = (xpad.shape[2] - kh) // stride + 1, (xpad.shape[3] - kw) // stride + 1
    out = numpy.zeros((N, Cout, Ho, Wo))
    for n in range(N):
        for o in range(Cout):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xpad[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, o, i, j] = (w[o, 0] * patch[o]).sum() if depthwise else (w[o] * patch).sum()
                    out[n, o, i, j] += 0 if b is None else b[o]
    return out


@pytest.mark.parametrize("stride,padding", PADDINGS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_gradients(xp, rng, stride, padding, bias):
    x = xp.asarray(rng.standard_normal((2, 3, 7, 9)))
    w = xp.asarray(rng.standard_normal((5, 3, 3, 2)))
    b = xp.asarray(rng.standard_normal(5)) if bias else None
    assert_gradients_close(conv2d_forward, conv2d_backward, [x, w, b], names=["x", "w", "b"],
                           kwargs=dict(stride=stride, padding=padding))


@pytest.mark.parametrize("stride,padding", PADDINGS)
@pytest.mark.parametrize("bias", [True, False])
def test_depthwise_gradients(xp, rng, stride, padding, bias):
    x = xp.asarray(rng.standard_normal((2, 3, 7, 9)))
    w = xp.asarray(rng.standard_normal((3, 1, 3, 3)))
    b = xp.asarray(rng.standard_normal(3)) if bias else None
    assert_gradients_close(depthwise_conv2d_forward, depthwise_conv2d_backward, [x, w, b], names=["x", "w", "b"],
                           kwargs=dict(stride=stride, padding=padding))


@pytest.mark.parametrize("bias", [True, False])
def test_pointwise_gradients(xp, rng, bias):
    x = xp.asarray(rng.standard_normal((2, 3, 5, 7)))
    w = xp.asarray(rng.standard_normal((4, 3, 1, 1)))
    b = xp.asarray(rng.standard_normal(4)) if bias else None
    assert_gradients_close(pointwise_conv2d_forward, pointwise_conv2d_backward, [x, w, b], names=["x", "w", "b"])


@pytest.mark.parametrize("stride,padding", PADDINGS)
def test_forward_matches_loops(rng, stride, padding):
    x = rng.standard_normal((2, 3, 6, 7))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    numpy.testing.assert_allclose(conv2d_forward(x, w, b, stride, padding)[0], loop_conv(x, w, b, stride, padding),
                                  rtol=1e-10, atol=1e-12)
    wd, bd = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal(3)
    numpy.testing.assert_allclose(depthwise_conv2d_forward(x, wd, bd, stride, padding)[0],
                                  loop_conv(x, wd, bd, stride, padding, depthwise=True), rtol=1e-10, atol=1e-12)
    wp = rng.standard_normal((5, 3, 1, 1))
    numpy.testing.assert_allclose(pointwise_conv2d_forward(x, wp)[0], loop_conv(x, wp, None, 1, 0), rtol=1e-10)


def test_forward_matches_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((2, 4, 9, 8)).astype(numpy.float32)
    w = rng.standard_normal((6, 4, 3, 3)).astype(numpy.float32)
    wd = rng.standard_normal((4, 1, 3, 3)).astype(numpy.float32)
    ours = conv2d_forward(x, w, None, 2, 1)[0]
    numpy.testing.assert_allclose(ours, F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1),
                                  rtol=1e-4, atol=1e-4)
    ours = depthwise_conv2d_forward(x, wd, None, 1, 1)[0]
    theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(wd), padding=1, groups=4)
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_dtype_is_kept(xp, rng, dtype):
    x = xp.asarray(rng.standard_normal((2, 3, 6, 5)), dtype=dtype)
    cases = [(conv2d_forward, conv2d_backward, xp.asarray(rng.standard_normal((4, 3, 3, 3)), dtype=dtype), {"padding": 1}),
             (depthwise_conv2d_forward, depthwise_conv2d_backward, xp.asarray(rng.standard_normal((3, 1, 3, 3)), dtype=dtype), {"stride": 2}),
             (pointwise_conv2d_forward, pointwise_conv2d_backward, xp.asarray(rng.standard_normal((4, 3, 1, 1)), dtype=dtype), {})]
    for fwd, bwd, w, kw in cases:
        b = xp.ones(w.shape[0], dtype=dtype)
        out, cache = fwd(x, w, b, **kw)
        assert out.dtype == dtype
        assert all(g.dtype == dtype for g in bwd(xp.ones_like(out), cache))


def test_shape_errors_name_the_argument(rng):
    x = rng.standard_normal((2, 3, 6, 5))
    with pytest.raises(ValueError, match=r"w: expected shape \(\*, 3, \*, \*\), got \(4, 2, 3, 3\)"):
        conv2d_forward(x, rng.standard_normal((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"x: expected a 4-D array"):
        depthwise_conv2d_forward(x[0], rng.standard_normal((3, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"w: expected shape \(3, 1, \*, \*\)"):
        depthwise_conv2d_forward(x, rng.standard_normal((4, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"b: expected shape \(4,\)"):
        pointwise_conv2d_forward(x, rng.standard_normal((4, 3, 1, 1)), rng.standard_normal(3))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        conv2d_forward(x, rng.standard_normal((4, 3, 7, 7)))
