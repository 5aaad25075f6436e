"""Data augmentation on spectrogram images (N, C, F, T), all vectorised over the batch.

- Random time shift: each image is rolled along time by up to ±max_shift·T columns (a sentence that
  starts a little earlier or later is the same sentence).
- SpecAugment-style masks (Park et al. 2019): one band of up to ``freq_mask``·F rows and one of up to
  ``time_mask``·T columns per image are set to −1, the value of silence after normalisation.
"""

import numpy


def time_shift(X, rng, max_shift=0.1):
    N, C, F, T = X.shape
    shift = rng.integers(-int(max_shift * T), int(max_shift * T) + 1, size=N)
    cols = (numpy.arange(T)[None, :] - shift[:, None]) % T                  # (N, T)
    return numpy.take_along_axis(X, cols[:, None, None, :].repeat(C, 1).repeat(F, 2), axis=3)


def band_mask(n, size, max_width, rng):
    """(n, size) boolean: one random band of width 0 … max_width·size per row."""
    width = rng.integers(0, int(max_width * size) + 1, size=n)
    start = rng.integers(0, size, size=n) % numpy.maximum(size - width + 1, 1)
    pos = numpy.arange(size)[None, :]
    return (pos >= start[:, None]) & (pos < (start + width)[:, None])


def spec_augment(X, rng, freq_mask=0.15, time_mask=0.15, silence=-1.0):
    """``silence``: the masked value, one number or one per channel (−1 in a static channel, 0 in a delta)."""
    N, C, F, T = X.shape
    fm = band_mask(N, F, freq_mask, rng)[:, None, :, None]
    tm = band_mask(N, T, time_mask, rng)[:, None, None, :]
    fill = numpy.broadcast_to(numpy.asarray(silence, X.dtype).reshape(-1, 1, 1), (C, 1, 1))
    return numpy.where(fm | tm, fill[None], X)


def augment(X, rng, max_shift=0.1, freq_mask=0.15, time_mask=0.15, silence=-1.0):
    """Time shift (none with ``max_shift=0``, e.g. for random windows, which shift already), then the masks."""
    if max_shift > 0:
        X = time_shift(X, rng, max_shift)
    return spec_augment(X, rng, freq_mask, time_mask, silence)
