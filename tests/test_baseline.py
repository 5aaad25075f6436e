"""The classical baseline: mel filterbank, DCT and deltas by hand; the CLI on the same splits as train."""

import json

import numpy
import pytest
import scipy.fft

from lcn_np import baseline, train
from lcn_np.data.features import dct_matrix, deltas, hz_to_mel, mel_filterbank, mel_to_hz
from lcn_np.data.synthetic import make_corpus, write_wavs


def test_mel_scale_round_trip_and_triangles():
    f = numpy.array([0.0, 300.0, 1000.0, 7999.0])
    numpy.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-9)
    assert abs(hz_to_mel(1000.0) - 999.99) < 0.1                       # the HTK scale puts 1 kHz at ~1000 mel
    fb = mel_filterbank(23, 512, 16000)
    assert fb.shape == (23, 257) and fb.min() >= 0 and fb.max() <= 1
    # neighbouring triangles cross: between the first and the last centre the filters sum to 1
    centres = mel_to_hz(numpy.linspace(0, hz_to_mel(8000), 25))[1:-1]
    bins = numpy.arange(257) * 16000 / 512
    inside = (bins >= centres[0]) & (bins <= centres[-1])
    numpy.testing.assert_allclose(fb[:, inside].sum(0), 1.0, atol=1e-9)
    assert list(fb.argmax(axis=1)) == sorted(fb.argmax(axis=1))         # centres rise with m
    with pytest.raises(ValueError, match="fmax"):
        mel_filterbank(10, 512, 16000, fmax=9000)


def test_dct_matrix_is_scipys_orthonormal_dct2_and_deltas_of_a_ramp_are_one():
    x = numpy.random.default_rng(0).standard_normal((7, 40))
    numpy.testing.assert_allclose(x @ dct_matrix(13, 40).T, scipy.fft.dct(x, type=2, norm="ortho")[:, :13], atol=1e-12)
    ramp = numpy.arange(11.0)[None].repeat(3, 0)
    d = deltas(ramp)
    numpy.testing.assert_allclose(d[:, 2:-2], 1.0) and numpy.testing.assert_allclose(d.shape, ramp.shape)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_wavs(root, make_corpus(per_class=4, n_speakers=2, seed=1))
    return root


def test_baseline_uses_the_training_runs_split(corpus_dir, tmp_path, capsys):
    assert train.main(["--data", str(corpus_dir), "--out", str(tmp_path / "r"), "--image-size", "16", "--epochs", "1",
                       "--no-cache", "--variant", "cn-dsc-dr"]) == 0
    code = baseline.main(["--data", str(corpus_dir), "--classifier", "logreg", "--out", str(tmp_path / "b"),
                          "--split-from", str(tmp_path / "r" / "split.json")])
    out = capsys.readouterr().out
    assert code == 0 and "logistic regression" in out and "average" in out
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    split = json.loads((tmp_path / "r" / "split.json").read_text())
    assert numpy.array(metrics["confusion"]).sum() == len(split["test"]) and 0 <= metrics["ua"] <= 1
    # the same arguments without --split-from give the same split, hence the same test set size
    assert baseline.main(["--data", str(corpus_dir), "--classifier", "logreg", "--seeds", "0", "1"]) == 0
    assert "mean ± std" in capsys.readouterr().out


def test_svm_when_scikit_learn_is_there(corpus_dir, capsys):
    pytest.importorskip("sklearn", reason="scikit-learn is the optional extra lcn-np[baseline]")
    assert baseline.main(["--data", str(corpus_dir), "--classifier", "svm"]) == 0
    assert "RBF-SVM" in capsys.readouterr().out


def test_a_split_file_from_another_corpus_is_refused(corpus_dir, tmp_path, capsys):
    (tmp_path / "split.json").write_text(json.dumps({"train": ["/nowhere/a.wav"], "val": [], "test": []}))
    assert baseline.main(["--data", str(corpus_dir), "--classifier", "logreg",
                          "--split-from", str(tmp_path / "split.json")]) == 2
    assert "not in --data" in capsys.readouterr().err


def test_a_class_without_readable_files_is_a_clear_error(tmp_path, capsys):
    for label in ("angry", "sad"):
        (tmp_path / label).mkdir()
    (tmp_path / "sad" / "broken.wav").write_text("not audio")
    import soundfile
    for i in range(3):
        soundfile.write(tmp_path / "angry" / f"{i}.wav", numpy.random.default_rng(i).standard_normal(8000) * 0.1, 16000)
    assert baseline.main(["--data", str(tmp_path), "--classifier", "logreg"]) == 2
    captured = capsys.readouterr()
    assert "'sad' has 0 readable file(s)" in captured.err and "broken.wav" in captured.out


def test_speaker_normalisation_centres_each_speakers_tracks(corpus_dir, tmp_path, capsys):
    from lcn_np.data.corpora import load_corpus
    from lcn_np.data.features import FeatureConfig
    items = load_corpus(corpus_dir).items
    V, kept = baseline.corpus_vectors(items, FeatureConfig(), by_speaker=True)
    plain, _ = baseline.corpus_vectors(items, FeatureConfig())
    speakers = numpy.array([item.speaker for item in kept])
    assert len(set(speakers)) > 1 and not numpy.allclose(V, plain)
    for s in set(speakers):     # each track z-scored over the speaker's frames: utterance means centre near 0
        numpy.testing.assert_allclose(V[speakers == s, :124].mean(axis=0), 0, atol=0.2)
    assert baseline.main(["--data", str(corpus_dir), "--classifier", "logreg", "--normalize", "speaker"]) == 0
    wav = next(corpus_dir.rglob("*.wav")).read_bytes()
    for label in ("angry", "sad"):               # a folder per class names no speakers: a clear error
        (tmp_path / label).mkdir()
        for i in range(2):
            (tmp_path / label / f"{i}.wav").write_bytes(wav)
    assert baseline.main(["--data", str(tmp_path), "--classifier", "logreg", "--normalize", "speaker"]) == 2
    assert "who speaks each file" in capsys.readouterr().err
