"""The embedded default corpus: synthetic emotional speech, generated from a seed in seconds.

**It is synthetic.** It exists so that ``python -m lcn_np.train`` runs with no download, shows a
capsule network learning something real about prosody, and lets the tests build corpora on the fly.
It is not a substitute for CASIA, EmoDB or RAVDESS, and accuracy on it says nothing about real speech.

The voice is a source–filter model (Fant 1960):
- source: a glottal pulse train made of harmonics of a time-varying F0, with a spectral tilt (the
  amplitude of harmonic k falls as k^−tilt), jitter (random F0 perturbation) and shimmer (random
  amplitude perturbation), plus aspiration noise for breathy voices;
- filter: a sequence of syllables, each a vowel with three formants (cascade of second-order resonators,
  vowel formants after Peterson & Barney 1952), scaled per speaker for vocal-tract length;
- consonant-like noise bursts between syllables.

Per-emotion prosody follows the acoustic correlates summarised by Murray & Arnott (1993, JASA 93(2),
"Toward the simulation of emotion in synthetic speech"), Scherer (2003, Speech Communication 40,
"Vocal communication of emotion: a review of research paradigms") and Juslin & Laukka (2003,
Psychological Bulletin 129(5)): relative to neutral, anger has a higher, wider, falling pitch, a faster
rate and a flatter spectral tilt (more high-frequency energy); fear a much higher, narrower, jittery
pitch, fast rate and breathiness; happiness a higher, wide, rising-falling pitch and slightly faster
rate; sadness a lower, narrow, falling pitch, slow rate, steep tilt and breathiness; surprise a high
pitch with a wide terminal rise.

So that no trivial cue gives the class away, every utterance gets a random loudness independent of its
emotion and a duration drawn from the same distribution for every emotion (speaking rate changes the
number of syllables inside it, not the length). Tests check that loudness alone and duration alone stay
near chance while prosodic features separate the classes.
"""

import argparse
import pathlib
from dataclasses import dataclass, field

import numpy
import scipy.signal

from .corpora import CASIA_CLASSES, Item

CLASSES = CASIA_CLASSES
SAMPLE_RATE = 16000

# name: (F0 factor, F0 range factor, contour, rate factor, spectral tilt, jitter, breathiness)
#   contour: slope of the pitch over the utterance in octaves (− falling, + rising); "rise" at the end
EMOTIONS = {
    "angry":    dict(f0=1.35, spread=1.6, slope=-0.35, rise=0.0, rate=1.20, tilt=0.85, jitter=0.015, breath=0.02),
    "fear":     dict(f0=1.50, spread=0.7, slope=0.05, rise=0.0, rate=1.25, tilt=1.15, jitter=0.040, breath=0.10),
    "happy":    dict(f0=1.25, spread=1.5, slope=0.10, rise=0.0, rate=1.10, tilt=1.00, jitter=0.010, breath=0.03),
    "neutral":  dict(f0=1.00, spread=1.0, slope=-0.10, rise=0.0, rate=1.00, tilt=1.25, jitter=0.008, breath=0.03),
    "sad":      dict(f0=0.90, spread=0.5, slope=-0.25, rise=0.0, rate=0.75, tilt=1.55, jitter=0.012, breath=0.12),
    "surprise": dict(f0=1.40, spread=1.4, slope=0.0, rise=0.8, rate=1.00, tilt=1.05, jitter=0.010, breath=0.04),
}

# name: (base F0 in Hz, formant scale = 1 / relative vocal-tract length)
SPEAKERS = {"spk1": (105.0, 1.00), "spk2": (135.0, 0.95), "spk3": (205.0, 1.14), "spk4": (235.0, 1.20),
            "spk5": (120.0, 1.05), "spk6": (185.0, 1.10)}

VOWELS = numpy.array([(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240),   # a i u
                      (530, 1840, 2480), (570, 840, 2410)], dtype=float)         # e o  (Peterson & Barney)


def resonator(x, freq, bandwidth, sr):
    """Second-order all-pole resonator (one formant) with unit gain at 0 Hz."""
    r = numpy.exp(-numpy.pi * bandwidth / sr)
    a = [1.0, -2 * r * numpy.cos(2 * numpy.pi * freq / sr), r * r]
    return scipy.signal.lfilter([sum(a)], a, x)


def glottal_source(f0, tilt, sr, rng, shimmer=0.05):
    """Sum of harmonics of the instantaneous F0 (T,), amplitudes k^−tilt, below Nyquist, with shimmer."""
    phase = 2 * numpy.pi * numpy.cumsum(f0) / sr
    k = numpy.arange(1, int(sr / 2 / f0.min()) + 1)[:, None]                      # (K, 1)
    amp = k ** -tilt * (k * f0[None, :] < sr / 2 * 0.9)                          # (K, T), no aliasing
    src = (amp * numpy.sin(k * phase[None, :])).sum(axis=0)
    n_blocks = max(2, len(f0) // 160)
    wobble = numpy.repeat(1 + shimmer * rng.standard_normal(n_blocks), -(-len(f0) // n_blocks))[:len(f0)]
    return src * wobble


def synthesize(emotion, speaker, rng, sample_rate=SAMPLE_RATE):
    """One utterance: float32 waveform in [−1, 1]."""
    e, (base_f0, vtl) = EMOTIONS[emotion], SPEAKERS[speaker]
    duration = rng.uniform(0.9, 1.5)                                   # the same for every emotion
    T = int(duration * sample_rate)
    t = numpy.arange(T) / sample_rate
    # pitch contour: level × range × slope (+ terminal rise), with slow random wander and jitter
    level = base_f0 * e["f0"] * rng.uniform(0.93, 1.07)
    n_syl = max(2, int(round(duration * 4.5 * e["rate"] * rng.uniform(0.9, 1.1))))
    accents = numpy.sin(numpy.pi * n_syl * t / duration * 0.5) * 0.12 * e["spread"]       # pitch accents
    octaves = e["slope"] * (t / duration - 0.5) + accents + e["rise"] * numpy.clip(t / duration - 0.75, 0, None) * 4
    jitter = numpy.repeat(rng.standard_normal(T // 80 + 1), 80)[:T] * e["jitter"]
    f0 = level * 2 ** (octaves + jitter)
    source = glottal_source(f0, e["tilt"], sample_rate, rng)
    source += e["breath"] * 8 * rng.standard_normal(T) * numpy.abs(source).mean()
    # syllables: vowel segments with formants, separated by short noise bursts (consonants)
    bounds = numpy.linspace(0, T, n_syl + 1).astype(int)
    out = numpy.zeros(T)
    for a, b in zip(bounds[:-1], bounds[1:]):
        formants = VOWELS[rng.integers(len(VOWELS))] * vtl * rng.uniform(0.95, 1.05)
        seg = source[a:b]
        for f, bw in zip(formants, (80, 100, 140)):
            seg = resonator(seg, f, bw, sample_rate)
        n = b - a
        env = numpy.sin(numpy.pi * numpy.arange(n) / n) ** 0.6
        gap = int(0.18 * n)
        env[:gap] = 0                                                                   # consonant slot
        burst = scipy.signal.lfilter([1, -0.95], [1], rng.standard_normal(gap)) * 0.15 * rng.uniform(0.3, 1)
        out[a:b] = seg / (numpy.abs(seg).max() + 1e-9) * env
        out[a:a + gap] += burst
    out *= 10 ** (rng.uniform(-20, -6) / 20) / (numpy.sqrt((out ** 2).mean()) + 1e-9)  # random loudness
    return numpy.clip(out, -1, 1).astype(numpy.float32)


@dataclass
class SyntheticCorpus:
    waves: list
    labels: numpy.ndarray
    speakers: list
    items: list = field(default_factory=list)
    classes: tuple = CLASSES
    sample_rate: int = SAMPLE_RATE


def make_corpus(per_class=20, n_speakers=4, seed=0, sample_rate=SAMPLE_RATE):
    """``per_class`` utterances per emotion and speaker; items have paths like 'synthetic/spk1/angry/0003'."""
    if not 1 <= n_speakers <= len(SPEAKERS):
        raise ValueError(f"n_speakers must be between 1 and {len(SPEAKERS)}, got {n_speakers}")
    rng = numpy.random.default_rng(seed)
    waves, labels, speakers, items = [], [], [], []
    for speaker in list(SPEAKERS)[:n_speakers]:
        for label, emotion in enumerate(CLASSES):
            for k in range(per_class):
                waves.append(synthesize(emotion, speaker, rng, sample_rate))
                labels.append(label)
                speakers.append(speaker)
                items.append(Item(f"synthetic/{speaker}/{emotion}/{k:04d}", label, speaker))  # no shared sentences
    return SyntheticCorpus(waves, numpy.array(labels), speakers, items)


def write_wavs(out_dir, corpus):
    """Write the corpus as <out>/<speaker>/<emotion>/<id>.wav (CASIA's layout, readable with --data)."""
    import soundfile

    out_dir = pathlib.Path(out_dir)
    for item, wave in zip(corpus.items, corpus.waves):
        _, speaker, emotion, name = item.path.split("/")
        path = out_dir / speaker / emotion / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), wave, corpus.sample_rate, subtype="PCM_16")
    return len(corpus.items)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lcn_np.data.synthetic",
                                     description="Write the built-in synthetic emotional-speech corpus as wav files.")
    parser.add_argument("--out", required=True, help="folder to write <speaker>/<emotion>/<id>.wav into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-class", type=int, default=20, help="utterances per emotion and speaker")
    parser.add_argument("--speakers", type=int, default=4)
    args = parser.parse_args(argv)
    corpus = make_corpus(args.per_class, args.speakers, args.seed)
    n = write_wavs(args.out, corpus)
    print(f"wrote {n} synthetic utterances ({len(CLASSES)} emotions × {args.speakers} speakers × "
          f"{args.per_class}) to {args.out}")


if __name__ == "__main__":
    main()
