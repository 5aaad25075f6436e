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
    wave = numpy.asarray(wave, dtype=numpy.float32)
    if wave.shape[0] < config.n_fft:
        wave = numpy.pad(wave, (0, config.n_fft - wave.shape[0]))
    P, _ = ops.power_spectrogram_forward(wave, config.n_fft, config.hop_length, config.win_length, config.window)
    db = 10.0 * numpy.log10(P.astype(numpy.float64) + 1e-10)
    return numpy.maximum(db, db.max() - config.top_db)


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
