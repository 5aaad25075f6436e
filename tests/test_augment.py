"""Augmentation: shapes, determinism, masks and shifts actually applied."""

import numpy

from lcn_np.data.augment import augment, spec_augment, time_shift


def test_time_shift_rolls_each_image(rng):
    X = rng.standard_normal((4, 3, 5, 20)).astype(numpy.float32)
    Y = time_shift(X, numpy.random.default_rng(0), 0.2)
    assert Y.shape == X.shape and Y.dtype == X.dtype
    for n in range(4):
        assert any(numpy.array_equal(Y[n], numpy.roll(X[n], s, axis=2)) for s in range(-4, 5))


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
