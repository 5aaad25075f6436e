"""From waveform to the paper's 3-channel spectrogram image, with an on-disk cache.

    wave (T,) ──power_spectrogram──▶ P (F, frames) ──[mel filterbank]──▶ ──10·log10, floor──▶ dB
         ──normalise──▶ [−1, 1] ──fit──▶ (S, S) or (S, frames) ──channels──▶ (3, S, ·)

:class:`FeatureConfig` holds every setting, is saved in each checkpoint, and ``predict`` rebuilds the
same images from it. Its defaults are the paper's pipeline as first built here (linear bins, the whole
utterance resized to S×S, three copies); a checkpoint saved before the newer settings existed loads with
those defaults and predicts as it was trained. The newer settings:

- ``frequency="mel"``: S log-mel bands (:func:`mel_filterbank`, the HTK mel scale) instead of the linear
  bins resampled to S rows — more rows for the low frequencies where voices differ.
- ``channels_from="deltas"``: the three channels are the static image, its delta and delta-delta along
  time (:func:`deltas`), instead of three identical copies.
- ``time="windows"``: the time axis keeps its native 10 ms hop; an utterance is a (3, S, frames) image
  of its own length. Training takes one random window of ``window_frames`` columns per step
  (:func:`random_windows`); evaluation and ``predict`` score every window (half a window apart; a short
  utterance at ``test_offsets`` offsets in one: :func:`sliding_windows`) and average the class scores over
  the utterance.

- Power spectrogram: the project's own :func:`lcn_np.ops.power_spectrogram_forward`
  (16 kHz, 25 ms Hamming window, 10 ms hop, 512-point FFT by default).
- dB with a floor: 10·log10(P + 1e-10), then values more than ``top_db`` below the utterance's maximum
  are raised to that floor (as librosa's ``power_to_db(top_db=80)``), so silence cannot reach −∞.
- Per-utterance normalisation to [−1, 1] (the range MobileNet's ImageNet weights expect); a constant
  image (an all-silent file) becomes all −1 without a division by zero.
- ``normalize="speaker"`` (:func:`speaker_normalize`): after the per-utterance step, each row (band) of
  the static image is z-scored with the mean and spread of that row over all of the speaker's
  utterances — no labels needed — and mapped back to [−1, 1] as z/3, clipped. What stays is how this
  utterance differs from the speaker's usual voice, not the voice itself.
- Fitting to S×S: the frequency bins are resampled to S rows by linear interpolation (low frequencies
  at the bottom, as in a picture of a spectrogram), and the *whole* utterance is resized to S columns.
  The project's earlier measurements on CASIA (before this code): resizing the whole utterance beat
  cropping S frames by a wide margin —
  a crop throws away most of a 2-second sentence at S = 64.
- Three channels (default): identical copies. The ImageNet front end expects 3 channels; a colormap would add no
  information (it is a fixed function of the same value) but would make the first layer learn to undo
  it, whereas with copies the first-layer filters act on the spectrogram exactly as the sum of their
  RGB weights — which is also how we read those filters in the walkthrough.
"""

import hashlib
import json
import pathlib
from dataclasses import asdict, dataclass, replace

import numpy

from .audio import AudioError, audio_problems, load_audio
from .. import ops
from ..checkpoint import atomic_write, cache_dir


FREQUENCY = ("linear", "mel")
LEVEL_TOP_DB = 40.0       # dB of our power spectrogram for a full-scale tone (25 ms Hamming window)
CHANNELS_FROM = ("copies", "deltas")
TIME = ("resize", "windows")
NORMALIZE = ("utterance", "level", "speaker")
NEWER = {"frequency": "linear", "channels_from": "copies", "time": "resize", "window_frames": 128,
         "normalize": "utterance"}
SCORING_ONLY = ("test_offsets",)   # how an image is scored, not how it is made: not part of the cache key


@dataclass
class FeatureConfig:
    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400          # 25 ms at 16 kHz
    hop_length: int = 160          # 10 ms
    window: str = "hamming"
    image_size: int = 64           # S: rows of every image (and columns, with time="resize")
    top_db: float = 80.0
    channels: int = 3
    frequency: str = "linear"      # "linear": STFT bins resampled to S rows; "mel": S log-mel bands
    channels_from: str = "copies"  # "copies": 3 identical channels; "deltas": static, Δ, ΔΔ
    time: str = "resize"           # "resize": whole utterance to S columns; "windows": native 10 ms frames
    window_frames: int = 128       # columns of a window with time="windows" (128 × 10 ms = 1.28 s)
    normalize: str = "utterance"   # "utterance": its own dB range → [−1, 1]; "level": a fixed dB range, so
                                   # that how loud an utterance is stays in the image; "speaker": as
                                   # "utterance", then each band z-scored over the speaker's utterances
    test_offsets: int = 1          # with windows: an utterance shorter than a window is scored at this many
                                   # evenly spaced offsets in it (training puts it at a random one) and the
                                   # scores averaged; 1 = at the start only (checkpoints written before it)

    def __post_init__(self):
        for name, allowed in (("frequency", FREQUENCY), ("channels_from", CHANNELS_FROM), ("time", TIME),
                              ("normalize", NORMALIZE)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"feature setting {name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.channels_from == "deltas" and self.channels != 3:
            raise ValueError("channels_from='deltas' makes exactly 3 channels (static, Δ, ΔΔ)")
        if self.test_offsets < 1:
            raise ValueError(f"feature setting test_offsets must be at least 1, got {self.test_offsets}")

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def key(self):
        """A short stable hash of the settings (part of every cache key); the newer settings count only when
        they differ from their defaults, so caches written before they existed stay valid."""
        d = {k: v for k, v in self.to_dict().items()
             if k not in SCORING_ONLY and (k not in NEWER or v != NEWER[k])}
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def input_shape(self):
        """(rows, columns) of what the network sees: (S, S), or (S, window_frames) with windows."""
        return (self.image_size, self.window_frames if self.time == "windows" else self.image_size)

    def silence(self):
        """(channels,) the value of silence in each channel: −1 in a static channel, 0 in a delta channel."""
        values = numpy.full(self.channels, -1.0, numpy.float32)
        if self.channels_from == "deltas":
            values[1:] = 0.0
        return values


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


def log_mel_spectrogram(wave, config):
    """dB mel-band power (S, frames) with S = config.image_size bands, floored at max − top_db."""
    db = 10.0 * numpy.log10(mel_filterbank(config.image_size, config.n_fft, config.sample_rate)
                            @ power_spectrogram(wave, config) + 1e-10)
    return numpy.maximum(db, db.max() - config.top_db)


def stack_channels(img, config, delta_std=0.4):
    """(S, T) static image in [−1, 1] → (channels, S, T): copies, or static, Δ and ΔΔ.

    A delta channel is scaled per utterance to a standard deviation of ``delta_std`` (about that of the
    static image) and clipped to [−1, 1], the range the ImageNet filters expect; silence is 0 there."""
    if config.channels_from == "copies":
        return numpy.repeat(img[None], config.channels, axis=0)
    channels, d = [img], img
    for _ in range(2):
        d = deltas(d)
        sd = d.std()
        channels.append(numpy.clip(d * (delta_std / sd), -1, 1) if sd > 0 else numpy.zeros_like(d))
    return numpy.stack(channels)


def spectrogram_image(wave, config):
    """(channels, S, S) float32 image in [−1, 1] of one utterance — (channels, S, frames) with
    ``time="windows"`` (see the module docstring)."""
    db = log_mel_spectrogram(wave, config) if config.frequency == "mel" else log_power_spectrogram(wave, config)
    if config.normalize == "level":                            # full scale ≈ +40 dB: [40 − top_db, 40] → [−1, 1]
        lo, hi = LEVEL_TOP_DB - config.top_db, LEVEL_TOP_DB
        img = numpy.clip((db - lo) / (hi - lo) * 2 - 1, -1, 1)
    else:
        lo, hi = db.min(), db.max()
        img = (db - lo) / (hi - lo) * 2 - 1 if hi > lo else numpy.full_like(db, -1.0)
    img = resize_axis(img, config.image_size, 0)
    if config.time == "resize":
        img = resize_axis(img, config.image_size, 1)
    img = numpy.ascontiguousarray(img[::-1])                  # low frequencies at the bottom row
    return stack_channels(img, config).astype(numpy.float32)


def zscore_by_speaker(tracks, speakers):
    """Each (rows, frames) array z-scored row by row with the mean and std of that row over all frames of
    all of its speaker's arrays (no labels used). tracks: list of (R, L_i); speakers: (N,) names."""
    if any(s is None for s in speakers):
        raise ValueError("--normalize speaker needs to know who speaks each file, and this corpus layout does not "
                         "say (CASIA, EmoDB and RAVDESS do; a folder per class does not); use --normalize utterance")
    out = list(tracks)
    speakers = numpy.asarray(speakers, dtype=object)
    for s in dict.fromkeys(speakers):
        idx = numpy.flatnonzero(speakers == s)
        frames = numpy.concatenate([tracks[i] for i in idx], axis=1)             # (R, all frames of s)
        mu, sd = frames.mean(axis=1, keepdims=True), frames.std(axis=1, keepdims=True)
        sd = numpy.where(sd > 0, sd, 1.0)                                         # a constant row stays finite
        for i in idx:
            out[i] = (tracks[i] - mu) / sd
    return out


def speaker_normalize(images, speakers, config, z_scale=3.0):
    """Per-speaker normalisation of a corpus' images (``normalize="speaker"``), band by band.

    For speaker s and row (band) r of the static channel, over every frame t of every utterance u of s:

        μ_s[r] = mean_{u,t} x_u[r, t]      σ_s[r] = std_{u,t} x_u[r, t]
        x'_u[r, t] = clip((x_u[r, t] − μ_s[r]) / σ_s[r] / z_scale, −1, 1)

    (:func:`zscore_by_speaker`), then the channels are made again from x' (:func:`stack_channels`).
    Speaker-level feature normalisation, as in speech recognition: a speaker's average spectrum (vocal
    tract, microphone, level) is removed, which is what a model tested on an unseen speaker cannot learn
    from the others. The statistics use no labels, so a test speaker's own utterances may provide them.

    images: list of (C, S, L) or an array (N, C, S, S);  speakers: (N,) names  →  the same kind, float32.
    """
    if len(images) == 0:
        return images
    z = zscore_by_speaker([img[0] for img in images], speakers)
    out = [stack_channels(numpy.clip(zi / z_scale, -1, 1), config).astype(numpy.float32) for zi in z]
    return out if isinstance(images, list) else numpy.stack(out)


def sliding_windows(image, frames, silence, offsets=1):
    """Every window of ``frames`` columns of one (C, S, L) image, half a window apart, the last one flush
    with the end: (k, C, S, frames). An image shorter than a window is padded with silence: placed at
    ``offsets`` evenly spaced offsets from the start to flush right (k = offsets windows; 1: at the start),
    since training places it at a random offset (``random_windows``)."""
    C, S, L = image.shape
    if L <= frames:
        starts = numpy.unique(numpy.linspace(0, frames - L, offsets).round().astype(int))
        out = numpy.empty((len(starts), C, S, frames), image.dtype)
        out[...] = silence[None, :, None, None]
        for k, start in enumerate(starts):                    # a handful of offsets per utterance
            out[k, :, :, start:start + L] = image
        return out
    hop = max(frames // 2, 1)
    starts = list(range(0, L - frames + 1, hop))
    if starts[-1] != L - frames:
        starts.append(L - frames)
    return numpy.stack([image[:, :, s:s + frames] for s in starts])


def utterance_windows(images, frames, silence, offsets=1):
    """All windows of a list of (C, S, L) images: (windows (M, C, S, frames), owner (M,) = the image each
    window came from), for scoring an utterance by the mean over its windows. The plain form, all at once:
    ``predict.window_batches`` makes the same windows batch by batch (a test holds the two equal)."""
    wins = [sliding_windows(img, frames, silence, offsets) for img in images]
    return numpy.concatenate(wins), numpy.repeat(numpy.arange(len(images)), [len(w) for w in wins])


def random_windows(images, frames, rng, silence):
    """One random window of ``frames`` columns from each (C, S, L) image → (N, C, S, frames).

    A longer image gives a uniformly random start; a shorter one sits at a random offset in a window
    of silence."""
    C, S = images[0].shape[:2]
    out = numpy.empty((len(images), C, S, frames), images[0].dtype)
    out[...] = silence[None, :, None, None]
    for i, img in enumerate(images):                          # one slice copy per image of the batch
        L = img.shape[2]
        start = int(rng.integers(0, abs(L - frames) + 1))
        if L >= frames:
            out[i] = img[:, :, start:start + frames]
        else:
            out[i, :, :, start:start + L] = img
    return out


class FeatureCache:
    """Spectrogram images on disk, one .npy per (file, its mtime and size, feature settings)."""

    def __init__(self, cache_dir):
        self.dir = pathlib.Path(cache_dir)

    def path_for(self, audio_path, config, speed=1.0):
        p = pathlib.Path(audio_path).resolve()
        st = p.stat()
        key = f"{p}|{st.st_mtime_ns}|{st.st_size}|{config.key()}" + (f"|speed {speed}" if speed != 1.0 else "")
        return self.dir / config.key() / (hashlib.sha1(key.encode()).hexdigest() + ".npy")

    def get(self, audio_path, config, speed=1.0):
        p = self.path_for(audio_path, config, speed)
        if p.is_file():
            try:
                return numpy.load(p, allow_pickle=False)
            except (ValueError, OSError):
                p.unlink(missing_ok=True)                      # a damaged cache entry is recomputed
        return None

    def put(self, audio_path, config, image, speed=1.0):
        atomic_write(self.path_for(audio_path, config, speed), lambda f: numpy.save(f, image, allow_pickle=False))


def default_cache_dir():
    return cache_dir("features")


def speed_perturb(wave, factor):
    """The utterance played ``factor`` times as fast: resampled to len/factor samples and read at the same
    rate, so it is shorter (factor > 1) or longer, and every frequency is scaled by ``factor`` — pitch and
    formants together, as a different speaker might say it (Ko et al. 2015's speed perturbation).
    A polyphase resampler (scipy) with the ratio as a fraction of small integers, e.g. 0.9 → 10/9."""
    from fractions import Fraction
    from scipy.signal import resample_poly
    ratio = Fraction(factor).limit_denominator(100)
    return resample_poly(wave, ratio.denominator, ratio.numerator).astype(wave.dtype, copy=False)


def features_for_items(items, config, cache_dir=None, progress=None, speed=1.0):
    """Images for a list of corpus items (objects with ``.path`` and ``.label``); ``speed`` ≠ 1: of the
    speed-perturbed utterances (:func:`speed_perturb`, for training only; cached separately).

    Returns ``(X (N, C, S, S) float32, y (N,) int64, kept, report)`` — with ``time="windows"`` X is a
    list of (C, S, frames) images of each utterance's own length — where ``kept`` are the items that
    could be read and ``report`` is a dict with ``unreadable`` [(path, message)], ``warnings``
    [(path, message)] and ``resampled`` {original rate: count}. ``progress(i, n)`` is called per item.
    """
    if config.normalize == "speaker":                         # the per-utterance images, cached as such,
        X, labels, kept, report = features_for_items(                 # then normalised speaker by speaker
            items, replace(config, normalize="utterance"), cache_dir, progress, speed)
        return speaker_normalize(X, [item.speaker for item in kept], config), labels, kept, report
    cache = FeatureCache(cache_dir) if cache_dir else None
    images, labels, kept = [], [], []
    report = {"unreadable": [], "warnings": [], "resampled": {}, "cached": 0}
    for i, item in enumerate(items):
        img = cache.get(item.path, config, speed) if cache else None
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
            img = spectrogram_image(wave if speed == 1.0 else speed_perturb(wave, speed), config)
            if cache:
                cache.put(item.path, config, img, speed)
        images.append(img)
        labels.append(item.label)
        kept.append(item)
        if progress:
            progress(i + 1, len(items))
    S, C = config.image_size, config.channels
    if config.time == "windows":
        return images, numpy.asarray(labels, dtype=numpy.int64), kept, report
    X = numpy.stack(images) if images else numpy.zeros((0, C, S, S), numpy.float32)
    return X, numpy.asarray(labels, dtype=numpy.int64), kept, report
