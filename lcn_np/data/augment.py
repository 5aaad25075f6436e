"""Data augmentation on spectrogram images (N, C, F, T), all vectorised over the batch.

- Random time shift: each image is rolled along time by up to ±max_shift·T columns (a sentence that
  starts a little earlier or later is the same sentence).
- Random frequency shift (``--freq-shift K``, off by default): each image moves up or down by up to K
  rows, the rows it leaves set to silence. On the mel scale a shift of a few bands is close to scaling
  every frequency by one factor — a longer or shorter vocal tract, a higher or lower voice ("vocal tract
  length perturbation", Jaitly & Hinton 2013) — so the network sees more voices than the corpus has.
- SpecAugment-style masks (Park et al. 2019): one band of up to ``freq_mask``·F rows and one of up to
  ``time_mask``·T columns per image are set to −1, the value of silence after normalisation.
"""

import numpy


def time_shift(X, rng, max_shift=0.1):
    N, C, F, T = X.shape
    shift = rng.integers(-int(max_shift * T), int(max_shift * T) + 1, size=N)
    cols = (numpy.arange(T)[None, :] - shift[:, None]) % T                  # (N, T)
    return numpy.take_along_axis(X, cols[:, None, None, :].repeat(C, 1).repeat(F, 2), axis=3)


def freq_shift(X, rng, max_bands, silence=-1.0):
    """Move each image (N, C, F, T) by a random whole number of rows in −max_bands … +max_bands (positive:
    towards higher rows); rows shifted in from outside the image are ``silence`` (per channel, as below)."""
    N, C, F, T = X.shape
    shift = rng.integers(-max_bands, max_bands + 1, size=N)
    rows = numpy.arange(F)[None, :] - shift[:, None]                           # (N, F): source row
    inside = (rows >= 0) & (rows < F)
    index = numpy.broadcast_to(numpy.clip(rows, 0, F - 1)[:, None, :, None], (N, C, F, T))
    fill = numpy.broadcast_to(numpy.asarray(silence, X.dtype).reshape(-1, 1, 1), (C, 1, 1))
    return numpy.where(inside[:, None, :, None], numpy.take_along_axis(X, index, axis=2), fill[None])


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


def augment(X, rng, max_shift=0.1, freq_mask=0.15, time_mask=0.15, silence=-1.0, max_bands=0):
    """Time shift (none with ``max_shift=0``, e.g. for random windows, which shift already), the frequency
    shift (none with ``max_bands=0``, the default), then the masks."""
    if max_shift > 0:
        X = time_shift(X, rng, max_shift)
    if max_bands > 0:
        X = freq_shift(X, rng, max_bands, silence)
    return spec_augment(X, rng, freq_mask, time_mask, silence)
