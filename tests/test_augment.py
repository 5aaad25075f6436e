"""Augmentation: shapes, determinism, masks and shifts actually applied."""

import numpy

from lcn_np.data.augment import augment, freq_shift, spec_augment, time_shift


def test_time_shift_rolls_each_image(rng):
    X = rng.standard_normal((4, 3, 5, 20)).astype(numpy.float32)
    Y = time_shift(X, numpy.random.default_rng(0), 0.2)
    assert Y.shape == X.shape and Y.dtype == X.dtype
    for n in range(4):
        assert any(numpy.array_equal(Y[n], numpy.roll(X[n], s, axis=2)) for s in range(-4, 5))


def test_freq_shift_moves_rows_and_fills_with_each_channels_silence(rng):
    X = rng.uniform(0.5, 1.0, (40, 3, 11, 7)).astype(numpy.float32)
    silence = numpy.array([-1.0, 0.0, 0.0], numpy.float32)
    Y = freq_shift(X, numpy.random.default_rng(2), 3, silence)
    assert Y.shape == X.shape and Y.dtype == X.dtype
    seen = set()
    for n in range(40):
        s = next(s for s in range(-3, 4)                       # the one shift that explains image n
                 if numpy.array_equal(Y[n, :, max(s, 0):11 + min(s, 0)], X[n, :, max(-s, 0):11 - max(s, 0)]))
        gap = Y[n, :, :s] if s > 0 else Y[n, :, 11 + s:]
        assert numpy.array_equal(gap, numpy.broadcast_to(silence[:, None, None], gap.shape))
        seen.add(s)
    assert seen == set(range(-3, 4))                           # every shift, both directions and none, occurs
    assert numpy.array_equal(freq_shift(X, numpy.random.default_rng(2), 0), X)


def test_masks_set_bands_to_silence(rng):
    X = rng.uniform(0, 1, (50, 1, 16, 16)).astype(numpy.float32)
    Y = spec_augment(X, numpy.random.default_rng(0), 0.25, 0.25)
    masked = Y == -1
    assert masked.any() and numpy.array_equal(Y[~masked], X[~masked])
    assert masked.mean() < 0.5


def test_deterministic_per_seed(rng):
    X = rng.standard_normal((3, 3, 8, 8)).astype(numpy.float32)
    a = augment(X, numpy.random.default_rng(5))
    b = augment(X, numpy.random.default_rng(5))
    c = augment(X, numpy.random.default_rng(6))
    assert numpy.array_equal(a, b) and not numpy.array_equal(a, c)
