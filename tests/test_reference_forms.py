"""Fast forms against the plain forms kept beside them: the same results to float32 round-off.

Each fast op (shifted-matrix-product convolution, flipped-kernel depthwise backward, channels-last
strided depthwise convolution and its layout copies, two-step 2×2 max-pooling, tap-by-tap max-pooling, chunked BatchNorm statistics, chunked padding) is compared with its ``*_reference`` on
float32 inputs with odd, non-square sizes; max-pooling must agree exactly (it only compares and copies).
"""

import numpy
import pytest

from lcn_np import parallel
from lcn_np.ops import conv, normalization, pooling

RTOL, ATOL = 2e-5, 2e-5          # float32 round-off of sums of a few hundred terms of size ~1


def f32(rng, *shape):
    return rng.standard_normal(shape).astype(numpy.float32)


def close(ours, ref, what):
    for k, (a, b) in enumerate(zip(ours, ref)):
        if a is None or b is None:
            assert a is None and b is None, f"{what}[{k}]: one side is None"
            continue
        assert a.dtype == b.dtype == numpy.float32, f"{what}[{k}]: dtype {a.dtype} vs {b.dtype}"
        scale = float(numpy.abs(b).max()) or 1.0
        err = float(numpy.abs(a - b).max()) / scale
        assert err < RTOL, f"{what}[{k}]: worst relative error {err:.2e} (shape {a.shape})"


@pytest.mark.parametrize("padding", [1, 0, 2, (0, 1, 0, 1), (2, 0, 1, 2)])
@pytest.mark.parametrize("bias", [True, False])
def test_stride1_conv_matches_im2col_reference(rng, padding, bias):
    x, w = f32(rng, 3, 5, 11, 8), f32(rng, 7, 5, 3, 3)
    b = f32(rng, 7) if bias else None
    out, cache = conv.conv2d_forward(x, w, b, 1, padding)
    ref, ref_cache = conv.conv2d_reference(x, w, b, 1, padding)
    close([out], [ref], "conv2d forward")
    dout = f32(rng, *out.shape)
    close(conv.conv2d_backward(dout, cache), conv.conv2d_reference_backward(dout, ref_cache), "conv2d backward")


@pytest.mark.parametrize("kernel,padding", [(3, 1), (3, 0), (3, (0, 1, 0, 1)), (5, 2), (2, (1, 0, 0, 1))])
def test_depthwise_flipped_kernel_backward_matches_scatter(rng, kernel, padding):
    x, w, b = f32(rng, 3, 4, 9, 12), f32(rng, 4, 1, kernel, kernel), f32(rng, 4)
    out, cache = conv.depthwise_conv2d_forward(x, w, b, 1, padding)
    dout = f32(rng, *out.shape)
    close(conv.depthwise_conv2d_backward(dout, cache), conv.depthwise_conv2d_reference_backward(dout, cache),
          "depthwise backward")


def test_pad_matches_numpy_pad(rng):
    x = f32(rng, 3, 2, 5, 7)
    for p in [(1, 1, 1, 1), (0, 1, 0, 1), (2, 0, 3, 1)]:
        t, b, l, r = p
        numpy.testing.assert_array_equal(conv.pad(x, p), numpy.pad(x, ((0, 0), (0, 0), (t, b), (l, r))))


@pytest.mark.parametrize("kernel,stride,padding", [(3, 2, (0, 1, 0, 1)), (3, 2, 1), (9, 2, 0), (5, 3, 2), (2, 2, 0)])
def test_strided_depthwise_channels_last_matches_nchw_taps_and_scatter(rng, kernel, stride, padding):
    x, w, b = f32(rng, 5, 6, 19, 13), f32(rng, 6, 1, kernel, kernel), f32(rng, 6)
    out, cache = conv.depthwise_conv2d_forward(x, w, b, stride, padding)
    assert "xpad_last" in cache                         # the channels-last path ran
    ref = numpy.empty_like(out)
    conv.depthwise_taps(cache["xpad"], w, stride, ref)  # the NCHW taps: the same sums in the same order
    numpy.testing.assert_array_equal(out, ref + b[:, None, None])
    dout = f32(rng, *out.shape)
    close(conv.depthwise_conv2d_backward(dout, cache), conv.depthwise_conv2d_reference_backward(dout, cache),
          "strided depthwise backward")


def test_channels_last_copies_are_the_4d_transposes(rng):
    x = f32(rng, 5, 3, 7, 11)
    last = conv.to_channels_last(x)
    numpy.testing.assert_array_equal(last, x.transpose(2, 3, 0, 1))
    assert last.flags.c_contiguous and last.shape == (7, 11, 5, 3)
    back = conv.from_channels_last(last)
    numpy.testing.assert_array_equal(back, x)
    assert back.flags.c_contiguous
    numpy.testing.assert_array_equal(conv.to_channels_last(x[:, :, 1:, ::2]), x[:, :, 1:, ::2].transpose(2, 3, 0, 1))
    w = f32(rng, 3, 1, 3, 5)
    taps = conv.tiled_taps(w, 4)
    assert taps.shape == (3, 5, 4, 3)
    for n in range(4):
        numpy.testing.assert_array_equal(taps[:, :, n], w[:, 0].transpose(1, 2, 0))


@pytest.mark.parametrize("kernel,padding", [(3, 1), (3, 0), (5, (2, 1, 0, 3)), (1, 0), (3, (0, 2, 1, 0))])
def test_depthwise_flat_taps_match_the_per_tap_form_exactly(rng, monkeypatch, kernel, padding):
    monkeypatch.setattr(parallel, "BLOCK", 2000)                     # several blocks of channels, a short last one
    x, w = f32(rng, 3, 37, 11, 13), f32(rng, 37, 1, kernel, kernel)
    xpad = conv.pad(x, conv.normalize_padding(padding))
    Ho, Wo = xpad.shape[2] - kernel + 1, xpad.shape[3] - kernel + 1
    flat, ref = numpy.empty((3, 37, Ho, Wo), numpy.float32), numpy.empty((3, 37, Ho, Wo), numpy.float32)
    conv.depthwise_flat_taps(xpad, w, flat)
    conv.depthwise_taps(xpad, w, 1, ref)
    numpy.testing.assert_array_equal(flat, ref)


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 3), (2, 3), (3, 2), (2, 1)])
def test_maxpool_taps_match_argmax_reference_exactly(rng, size, stride):
    x = f32(rng, 3, 4, 9, 11)
    x[0, 0, :2, :2] = 1.0                                 # a tie: the first tap must win on both sides
    out, cache = pooling.maxpool2d_forward(x, size, stride)
    ref, ref_cache = pooling.maxpool2d_reference(x, size, stride)
    numpy.testing.assert_array_equal(out, ref)
    numpy.testing.assert_array_equal(cache["argmax"], ref_cache["argmax"])
    dout = f32(rng, *out.shape)
    numpy.testing.assert_array_equal(pooling.maxpool2d_backward(dout, cache),
                                     pooling.maxpool2d_reference_backward(dout, ref_cache))


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 3)])
def test_maxpool_ties_go_to_the_first_tap_in_row_major_order(rng, size, stride):
    x = rng.integers(0, 3, (5, 3, 9, 11)).astype(numpy.float32)    # three values: every kind of tie
    out, cache = pooling.maxpool2d_forward(x, size, stride)
    ref, ref_cache = pooling.maxpool2d_reference(x, size, stride)
    numpy.testing.assert_array_equal(out, ref)
    numpy.testing.assert_array_equal(cache["argmax"], ref_cache["argmax"])


@pytest.mark.parametrize("train", [True, False])
def test_chunked_batchnorm_matches_whole_batch_reference(rng, train):
    x = f32(rng, 13, 6, 5, 7) * 3 + 2                     # a mean far from 0: the variance must not cancel
    gamma, beta = f32(rng, 6), f32(rng, 6)
    stats = [numpy.zeros(6, numpy.float32), numpy.ones(6, numpy.float32)]
    stats_ref = [s.copy() for s in stats]
    out, cache = normalization.batchnorm2d_forward(x, gamma, beta, *stats, train=train)
    ref, ref_cache = normalization.batchnorm2d_reference(x, gamma, beta, *stats_ref, train=train)
    close([out, cache["x_hat"], cache["inv_std"]] + stats, [ref, ref_cache["x_hat"], ref_cache["inv_std"]] + stats_ref,
          "batchnorm forward")
    dout = f32(rng, *out.shape)
    close(normalization.batchnorm2d_backward(dout, cache), normalization.batchnorm2d_reference_backward(dout, ref_cache),
          "batchnorm backward")
