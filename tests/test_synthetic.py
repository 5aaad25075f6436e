"""The synthetic corpus: deterministic, speech-like, learnable from prosody but not from loudness or length."""

import numpy
import soundfile

from lcn_np.data.synthetic import CLASSES, main, make_corpus


def test_deterministic_and_well_formed():
    a, b, c = make_corpus(2, 2, seed=0), make_corpus(2, 2, seed=0), make_corpus(2, 2, seed=1)
    assert all(numpy.array_equal(x, y) for x, y in zip(a.waves, b.waves))
    assert not numpy.array_equal(a.waves[0], c.waves[0])
    assert len(a.waves) == 2 * 2 * 6 and numpy.bincount(a.labels).tolist() == [4] * 6
    for w in a.waves:
        assert w.dtype == numpy.float32 and numpy.isfinite(w).all() and numpy.abs(w).max() <= 1


def pitch_track(wave, sr=16000):
    """Autocorrelation F0 of every voiced 40 ms frame (a simple estimator, independent of the generator)."""
    f0 = []
    for start in range(0, len(wave) - 640, 320):
        x = wave[start:start + 640] - wave[start:start + 640].mean()
        if (x ** 2).mean() < 1e-6:
            continue
        ac = numpy.correlate(x, x, "full")[639:]
        lo, hi = sr // 500, sr // 70
        f0.append(sr / (lo + numpy.argmax(ac[lo:hi])))
    return numpy.array(f0)


def pitch(wave):
    return numpy.median(pitch_track(wave))


def nearest_centroid_accuracy(features, labels):
    """Leave-one-out nearest class mean on standardised features."""
    f = (features - features.mean(0)) / (features.std(0) + 1e-12)
    correct = 0
    for i in range(len(f)):
        mask = numpy.arange(len(f)) != i
        means = numpy.stack([f[mask & (labels == c)].mean(0) for c in range(6)])
        correct += numpy.argmin(((means - f[i]) ** 2).sum(1)) == labels[i]
    return correct / len(f)


def test_not_separable_by_loudness_or_duration_but_by_prosody():
    corpus = make_corpus(per_class=8, n_speakers=2, seed=3)
    y = corpus.labels
    rms = numpy.array([[numpy.log(numpy.sqrt((w ** 2).mean()))] for w in corpus.waves])
    dur = numpy.array([[len(w)] for w in corpus.waves], dtype=float)
    tracks = [numpy.log(pitch_track(w)) for w in corpus.waves]
    spectra = [numpy.abs(numpy.fft.rfft(w)) ** 2 for w in corpus.waves]
    prosody = numpy.array([[numpy.median(t), numpy.std(t), numpy.log(s[len(s) // 8:].sum() / s.sum())]
                           for t, s in zip(tracks, spectra)])
    speakers = numpy.array(corpus.speakers)
    for spk in set(corpus.speakers):          # remove each speaker's own pitch level, as a listener would
        prosody[speakers == spk] -= prosody[speakers == spk].mean(0)
    assert nearest_centroid_accuracy(rms, y) < 0.35
    assert nearest_centroid_accuracy(dur, y) < 0.35
    assert nearest_centroid_accuracy(prosody, y) > 0.45


def test_emotions_move_pitch_as_designed():
    corpus = make_corpus(per_class=4, n_speakers=1, seed=0)
    f0 = {c: numpy.median([pitch(w) for w, l in zip(corpus.waves, corpus.labels) if CLASSES[l] == c]) for c in CLASSES}
    for high in ("angry", "fear", "happy", "surprise"):
        assert f0[high] > f0["neutral"] > f0["sad"] * 0.99


def test_cli_writes_casia_layout(tmp_path, capsys):
    main(["--out", str(tmp_path), "--per-class", "1", "--speakers", "2"])
    files = sorted(tmp_path.rglob("*.wav"))
    assert len(files) == 12 and "wrote 12" in capsys.readouterr().out
    data, sr = soundfile.read(files[0])
    assert sr == 16000 and data.ndim == 1
