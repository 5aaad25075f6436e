"""Reading audio: any file soundfile can read → mono float32 in [−1, 1] at 16 kHz.

Stereo is mixed to mono by averaging the channels; any other sample rate is resampled with SciPy's
polyphase resampler (``resample_poly`` with up/down reduced by their gcd, which applies an
anti-aliasing low-pass). Resampling is never silent: :func:`load_audio` records it in ``info`` so the
caller can say how many files were resampled from which rates.
"""

import math
import pathlib

import numpy
import scipy.signal

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


class AudioError(ValueError):
    """A file that cannot be used as audio; the message names it and says what to do."""


def load_audio(path, sample_rate=16000, info=None):
    """Read ``path`` as a float32 mono waveform (T,) at ``sample_rate``.

    ``info``, if a dict, receives ``original_rate``, ``channels`` and ``resampled`` (bool).
    Raises :class:`AudioError` for missing, unreadable, non-audio, empty or non-finite files.
    """
    import soundfile

    path = pathlib.Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError types
        raise AudioError(f"{path}: cannot be read as audio ({exc}). Is it a wav/flac/ogg file? "
                         "Convert it (e.g. with sox or ffmpeg) or remove it from the folder.") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples (empty recording); remove it")
    if not numpy.isfinite(data).all():
        raise AudioError(f"{path}: the file contains NaN or infinite samples; re-export it")
    wave = data.mean(axis=1)                                   # stereo → mono
    resampled = rate != sample_rate
    if resampled:
        g = math.gcd(int(rate), int(sample_rate))
        wave = scipy.signal.resample_poly(wave, sample_rate // g, int(rate) // g)
    if info is not None:
        info.update(original_rate=int(rate), channels=int(data.shape[1]), resampled=resampled)
    return numpy.clip(wave, -1.0, 1.0).astype(numpy.float32)


def audio_problems(wave, sample_rate, n_fft):
    """Warnings (not errors) about a waveform: all silent, or shorter than one analysis frame."""
    problems = []
    if not numpy.any(wave):
        problems.append("all silent")
    if wave.shape[0] < n_fft:
        problems.append(f"shorter than one frame ({wave.shape[0]} samples = {1000 * wave.shape[0] / sample_rate:.1f} ms "
                        f"< n_fft = {n_fft}); zero-padded")
    return problems
