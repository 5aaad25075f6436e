"""From waveform to the paper's 3-channel spectrogram image, with an on-disk cache.

    wave (T,) ──power_spectrogram──▶ P (F, frames) ──10·log10, floor──▶ dB ──normalise──▶ [−1, 1]
         ──resize──▶ (S, S) ──copy──▶ (3, S, S)

- Power spectrogram: the project's own :func:`lcn_np.ops.power_spectrogram_forward`
  (16 kHz, 25 ms Hamming window, 10 ms hop, 512-point FFT by default).
- dB with a floor: 10·log10(P + 1e-10), then values more than ``top_db`` below the utterance's maximum
  are raised to that floor (as librosa's ``power_to_db(top_db=80)``), so silence cannot reach −∞.
- Per-utterance normalisation to [−1, 1] (the range MobileNet's ImageNet weights expect); a constant
  image (an all-silent file) becomes all −1 without a division by zero.
- Fitting to S×S: the frequency bins are resampled to S rows by linear interpolation (low frequencies
  at the bottom, as in a picture of a spectrogram), and the *whole* utterance is resized to S columns.
  The project's earlier measurements on CASIA (before this code): resizing the whole utterance beat
  cropping S frames by a wide margin —
  a crop throws away most of a 2-second sentence at S = 64.
- Three channels: identical copies. The ImageNet front end expects 3 channels; a colormap would add no
  information (it is a fixed function of the same value) but would make the first layer learn to undo
  it, whereas with copies the first-layer filters act on the spectrogram exactly as the sum of their
  RGB weights — which is also how we read those filters in the walkthrough.
"""

import hashlib
import json
import pathlib
from dataclasses import asdict, dataclass

import numpy

from .audio import AudioError, audio_problems, load_audio
from .. import ops
from ..checkpoint import atomic_write, cache_dir


@dataclass
class FeatureConfig:
    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400          # 25 ms at 16 kHz
    hop_length: int = 160          # 10 ms
    window: str = "hamming"
    image_size: int = 64
    top_db: float = 80.0
    channels: int = 3

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def key(self):
        """A short stable hash of the settings (part of every cache key)."""
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def log_power_spectrogram(wave, config):
    """dB power spectrogram (F, frames), floored at max − top_db; short waves are zero-padded to one frame."""
    db = 10.0 * numpy.log10(power_spectrogram(wave, config) + 1e-10)
    return numpy.maximum(db, db.max() - config.top_db)


def hz_to_mel(f):
    """The HTK mel scale: equal steps in mel are roughly equal steps in perceived pitch."""
    return 2595.0 * numpy.log10(1.0 + numpy.asarray(f, dtype=numpy.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (numpy.asarray(m, dtype=numpy.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels, n_fft, sample_rate, fmin=0.0, fmax=None):
    """(n_mels, n_fft//2 + 1) triangular filters, equally spaced on the mel scale (HTK formula).

    Filter m rises linearly from centre m−1 to centre m and falls to centre m+1 (n_mels + 2 points equally
    spaced in mel between fmin and fmax, fmax = sample_rate/2 by default), reaching 1 at its centre. Applied
    to a power spectrogram P (F, frames) it gives mel-band energies ``fb @ P``.
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f"mel filterbank: need 0 ≤ fmin < fmax ≤ sample_rate/2, got fmin={fmin}, fmax={fmax}")
    bins = numpy.arange(n_fft // 2 + 1) * sample_rate / n_fft                   # centre frequency of each bin
    edges = mel_to_hz(numpy.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return numpy.maximum(0.0, numpy.minimum(rising, falling))


def dct_matrix(n_out, n_in):
    """Orthonormal DCT-II as a (n_out, n_in) matrix: row k is sqrt(2/n)·cos(π k (i + ½) / n), row 0 scaled
    by 1/sqrt(2). Applied to log mel energies it gives cepstral coefficients (MFCCs)."""
    i = numpy.arange(n_in)
    D = numpy.sqrt(2.0 / n_in) * numpy.cos(numpy.pi * numpy.arange(n_out)[:, None] * (i[None, :] + 0.5) / n_in)
    D[0] /= numpy.sqrt(2.0)
    return D


def power_spectrogram(wave, config):
    """(F, frames) float64 power spectrogram of one waveform (our own op); short waves are zero-padded."""
    wave = numpy.asarray(wave, dtype=numpy.float32)
    if wave.shape[0] < config.n_fft:
        wave = numpy.pad(wave, (0, config.n_fft - wave.shape[0]))
    P, _ = ops.power_spectrogram_forward(wave, config.n_fft, config.hop_length, config.win_length, config.window)
    return P.astype(numpy.float64)


def log_mel_energies(wave, config, n_mels=64):
    """(n_mels, frames) natural log of the mel-band energies (floor 1e-10)."""
    return numpy.log(mel_filterbank(n_mels, config.n_fft, config.sample_rate) @ power_spectrogram(wave, config) + 1e-10)


def mfcc(wave, config, n_mfcc=13, n_mels=40):
    """(n_mfcc, frames) MFCCs: DCT of the log mel-band energies of our own power spectrogram."""
    return dct_matrix(n_mfcc, n_mels) @ log_mel_energies(wave, config, n_mels)


def deltas(features, width=2):
    """Regression deltas along time (the HTK formula): d_t = Σ_k k·(c_{t+k} − c_{t−k}) / (2 Σ_k k²), with the
    edges repeated. features: (..., frames) → same shape."""
    pad = [(0, 0)] * (features.ndim - 1) + [(width, width)]
    f = numpy.pad(features, pad, mode="edge")
    T = features.shape[-1]
    num = sum(k * (f[..., width + k:width + k + T] - f[..., width - k:width - k + T]) for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def resize_axis(a, size, axis):
    """Linear interpolation of ``a`` to ``size`` samples along ``axis`` (end points kept)."""
    n = a.shape[axis]
    if n == size:
        return a
    pos = numpy.linspace(0, n - 1, size)
    lo = numpy.floor(pos).astype(int)
    hi = numpy.minimum(lo + 1, n - 1)
    w = (pos - lo).reshape([-1 if i == axis else 1 for i in range(a.ndim)])
    return numpy.take(a, lo, axis=axis) * (1 - w) + numpy.take(a, hi, axis=axis) * w


def spectrogram_image(wave, config):
    """(channels, S, S) float32 image in [−1, 1] of one utterance (see the module docstring)."""
    db = log_power_spectrogram(wave, config)
    lo, hi = db.min(), db.max()
    img = (db - lo) / (hi - lo) * 2 - 1 if hi > lo else numpy.full_like(db, -1.0)
    img = resize_axis(resize_axis(img, config.image_size, 0), config.image_size, 1)
    img = img[::-1]                                            # low frequencies at the bottom row
    return numpy.repeat(img[None], config.channels, axis=0).astype(numpy.float32)


class FeatureCache:
    """Spectrogram images on disk, one .npy per (file, its mtime and size, feature settings)."""

    def __init__(self, cache_dir):
        self.dir = pathlib.Path(cache_dir)

    def path_for(self, audio_path, config):
        p = pathlib.Path(audio_path).resolve()
        st = p.stat()
        key = f"{p}|{st.st_mtime_ns}|{st.st_size}|{config.key()}"
        return self.dir / config.key() / (hashlib.sha1(key.encode()).hexdigest() + ".npy")

    def get(self, audio_path, config):
        p = self.path_for(audio_path, config)
        if p.is_file():
            try:
                return numpy.load(p, allow_pickle=False)
            except (ValueError, OSError):
                p.unlink(missing_ok=True)                      # a damaged cache entry is recomputed
        return None

    def put(self, audio_path, config, image):
        atomic_write(self.path_for(audio_path, config), lambda f: numpy.save(f, image, allow_pickle=False))


def default_cache_dir():
    return cache_dir("features")


def features_for_items(items, config, cache_dir=None, progress=None):
    """Images for a list of corpus items (objects with ``.path`` and ``.label``).

    Returns ``(X (N, C, S, S) float32, y (N,) int64, kept, report)`` where ``kept`` are the items that
    could be read and ``report`` is a dict with ``unreadable`` [(path, message)], ``warnings``
    [(path, message)] and ``resampled`` {original rate: count}. ``progress(i, n)`` is called per item.
    """
    cache = FeatureCache(cache_dir) if cache_dir else None
    images, labels, kept = [], [], []
    report = {"unreadable": [], "warnings": [], "resampled": {}, "cached": 0}
    for i, item in enumerate(items):
        img = cache.get(item.path, config) if cache else None
        if img is not None:
            report["cached"] += 1
        else:
            info = {}
            try:
                wave = load_audio(item.path, config.sample_rate, info)
            except AudioError as exc:
                report["unreadable"].append((str(item.path), str(exc)))
                continue
            if info["resampled"]:
                report["resampled"][info["original_rate"]] = report["resampled"].get(info["original_rate"], 0) + 1
            for problem in audio_problems(wave, config.sample_rate, config.n_fft):
                report["warnings"].append((str(item.path), problem))
            img = spectrogram_image(wave, config)
            if cache:
                cache.put(item.path, config, img)
        images.append(img)
        labels.append(item.label)
        kept.append(item)
        if progress:
            progress(i + 1, len(items))
    S, C = config.image_size, config.channels
    X = numpy.stack(images) if images else numpy.zeros((0, C, S, S), numpy.float32)
    return X, numpy.asarray(labels, dtype=numpy.int64), kept, report
