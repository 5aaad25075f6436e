"""predict: every class's score per file from a checkpoint alone; bad files reported, the rest done."""

import dataclasses

import numpy
import pytest
import soundfile

from lcn_np import predict, train
from lcn_np.data.synthetic import make_corpus, write_wavs


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("p")
    write_wavs(root / "data", make_corpus(per_class=2, n_speakers=2, seed=1))
    train.main(["--data", str(root / "data"), "--out", str(root / "run"), "--image-size", "16", "--epochs", "1",
                "--no-cache", "--variant", "cn-dsc-dr"])
    return root


def test_predicts_any_rate_and_stereo_and_reports_bad_files(checkpoint, tmp_path, capsys):
    stereo = tmp_path / "stereo44k.wav"
    soundfile.write(stereo, numpy.random.default_rng(0).standard_normal((30000, 2)) * 0.1, 44100)
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    good = next((checkpoint / "data").rglob("*.wav"))
    code = predict.main(["--checkpoint", str(checkpoint / "run" / "best.npz"), str(good), str(bad), str(stereo)])
    out = capsys.readouterr().out
    assert code == 1
    assert "bad.wav: ERROR" in out and "resampled from 44100 Hz" in out
    assert out.count("angry ") == 2 and "[capsule length]" in out


def test_missing_checkpoint(capsys, tmp_path):
    assert predict.main(["--checkpoint", str(tmp_path / "none.npz"), "a.wav"]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_windows_checkpoint_predicts_by_averaging_its_windows(tmp_path, capsys):
    """time="windows": predict rebuilds the native-hop image from the checkpoint's settings and averages
    the class scores of all windows — the same figure as the training run's evaluation."""
    write_wavs(tmp_path / "data", make_corpus(per_class=2, n_speakers=2, seed=2))
    assert train.main(["--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--image-size", "16",
                       "--epochs", "1", "--no-cache", "--variant", "lcn", "--frequency", "mel",
                       "--channels-from", "deltas", "--time", "windows", "--window-frames", "24",
                       "--pretrained", "none", "--n-blocks", "2"]) == 0
    model, classes, config = predict.load_model(tmp_path / "run" / "best.npz")
    assert (config.time, config.frequency, config.window_frames) == ("windows", "mel", 24)
    wav = next((tmp_path / "data").rglob("*.wav"))
    label, scores, _ = predict.predict_file(model, classes, config, wav)
    from lcn_np.data.audio import load_audio
    from lcn_np.data.features import spectrogram_image, utterance_windows
    wins, _ = utterance_windows([spectrogram_image(load_audio(wav), config)], 24, config.silence())
    assert len(wins) > 1
    expected = model.forward(wins).mean(axis=0)
    numpy.testing.assert_allclose([scores[c] for c in classes], expected, rtol=1e-5)
    assert label == classes[int(expected.argmax())]


def test_head_settings_travel_in_the_checkpoint(tmp_path, capsys):
    """--routing-iterations 1, a 3×3 stride-1 primary-capsule convolution and a narrower front end are built,
    saved and rebuilt by predict as such; a resume with another iteration count stops."""
    write_wavs(tmp_path / "data", make_corpus(per_class=2, n_speakers=2, seed=3))
    args = ["--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--image-size", "16", "--epochs", "1",
            "--no-cache", "--variant", "cn-dsc-dr"]
    head = ["--primary-kernel", "3", "--primary-stride", "1", "--channels", "8", "12"]
    assert train.main(args + ["--routing-iterations", "1"] + head) == 0
    model, _, _ = predict.load_model(tmp_path / "run" / "last.npz")
    assert model.layer("digit").iterations == 1 and model.config["iterations"] == 1
    # 16×16 image → 4×4 map → a 3×3 stride-1 kernel leaves a 2×2 grid of 32 capsule types (9×9/2 would give 32)
    assert model.config["n_primary_capsules"] == 32 * 2 * 2 and model.layer("digit").params["w"].shape[0] == 128
    assert model.config["channels"] == [8, 12] and model.layer("primary").conv.layers[0][1].params["w"].shape[0] == 12
    capsys.readouterr()
    resume = args + ["--epochs", "2", "--resume", "--routing-iterations", "1", "--channels", "8", "12"]
    assert train.main(resume) != 0                                       # the primary kernel left at its default
    assert "was trained with primary_kernel = 3, not 9" in capsys.readouterr().err
    args += head
    assert train.main(args + ["--epochs", "2", "--resume"]) != 0         # 3 iterations against a 1-iteration run
    assert "was trained with iterations = 1, not 3" in capsys.readouterr().err


class StartColumn:
    """A stand-in model whose two scores for a window are (first column that is not silence, 1)."""
    training = False

    def eval(self):
        pass

    def forward(self, X):
        start = (X[:, 0, 0, :] != -1).argmax(axis=1).astype(numpy.float64)
        return numpy.stack([start, numpy.ones_like(start)], axis=1)


def test_utterance_scores_average_a_short_utterance_over_config_test_offsets():
    """With windows, a short utterance's score is the mean over its config.test_offsets placements."""
    from lcn_np.data.features import FeatureConfig
    config = FeatureConfig(image_size=4, frequency="mel", channels_from="deltas", time="windows", window_frames=11)
    short = numpy.zeros((3, 4, 6), numpy.float32)                        # slack 5 columns in a window of 11
    long = numpy.zeros((3, 4, 30), numpy.float32)
    for offsets, expected in [(1, 0.0), (3, (0 + 2 + 5) / 3), (9, (0 + 1 + 2 + 3 + 4 + 5) / 6)]:
        scores = predict.utterance_scores(StartColumn(), [short, long], dataclasses.replace(config, test_offsets=offsets))
        assert scores[0, 0] == pytest.approx(expected) and scores[1, 0] == 0 and scores[0, 1] == 1, offsets


def test_window_batches_are_the_slices_of_all_windows_and_scores_match_them_exactly():
    """Windows made batch by batch (never the whole set in memory) give the same batches, and so the same
    scores to the last bit, as all windows concatenated and sliced."""
    from lcn_np.data.features import FeatureConfig, utterance_windows
    from lcn_np.model import build
    config = FeatureConfig(image_size=16, frequency="mel", channels_from="deltas", time="windows", window_frames=13,
                           test_offsets=3)
    rng = numpy.random.default_rng(5)
    images = [rng.standard_normal((3, 16, n)).astype(numpy.float32) for n in (7, 29, 13, 5, 41, 9, 20)]
    X, owner = utterance_windows(images, config.window_frames, config.silence(), config.test_offsets)
    batches = list(predict.window_batches(images, config, batch_size=4))     # boundaries inside utterances
    assert [len(b) for b, _ in batches] == [4] * (len(X) // 4) + ([len(X) % 4] if len(X) % 4 else [])
    numpy.testing.assert_array_equal(numpy.concatenate([b for b, _ in batches]), X)
    numpy.testing.assert_array_equal(numpy.concatenate([o for _, o in batches]), owner)
    model = build("lcn", 6, (16, 13), seed=1, n_blocks=2)
    model.eval()
    out = numpy.concatenate([model.forward(X[i:i + 4]) for i in range(0, len(X), 4)])
    sums = numpy.zeros((len(images), 6))
    numpy.add.at(sums, owner, out)
    expected = sums / numpy.bincount(owner)[:, None]
    numpy.testing.assert_array_equal(predict.utterance_scores(model, images, config, batch_size=4), expected)


def test_shared_capsule_checkpoint_rebuilds_shared_and_takes_longer_windows(tmp_path, capsys):
    """--shared-capsules is saved in the model config; predict rebuilds one W per type, and the head takes
    a window twice as long; resuming without the flag stops."""
    write_wavs(tmp_path / "data", make_corpus(per_class=2, n_speakers=2, seed=3))
    args = ["--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--image-size", "16", "--epochs", "1",
            "--no-cache", "--variant", "cn-dsc-dr", "--channels", "8", "12", "--primary-kernel", "3",
            "--primary-stride", "1", "--frequency", "mel", "--time", "windows", "--window-frames", "20"]
    assert train.main(args + ["--shared-capsules"]) == 0
    model, _, config = predict.load_model(tmp_path / "run" / "best.npz")
    digit = model.layer("digit")
    assert model.config["shared_capsules"] is True and digit.shared_types == 32 and digit.params["w"].shape[0] == 32
    longer = numpy.zeros((1, 3, 16, 2 * config.window_frames), numpy.float32)
    assert model.forward(longer).shape == (1, 6)
    capsys.readouterr()
    assert train.main(args + ["--epochs", "2", "--resume"]) != 0
    assert "was trained with shared_capsules = True" in capsys.readouterr().err
    plain = [a if a != str(tmp_path / "run") else str(tmp_path / "plain") for a in args]
    assert train.main(plain) == 0                                        # one W per capsule …
    capsys.readouterr()
    assert train.main(plain + ["--epochs", "2", "--resume", "--shared-capsules"]) != 0   # … resumed as shared
    assert "was trained with shared_capsules = None, not True" in capsys.readouterr().err


def test_speaker_normalised_checkpoint_takes_the_files_as_one_speaker(tmp_path, capsys):
    """normalize="speaker": training normalises each speaker's images together; predict does the same with
    the files of one call (one file alone: its own statistics), and a bad file among them is reported."""
    write_wavs(tmp_path / "data", make_corpus(per_class=2, n_speakers=2, seed=3))
    assert train.main(["--data", str(tmp_path / "data"), "--out", str(tmp_path / "run"), "--image-size", "16",
                       "--epochs", "1", "--no-cache", "--variant", "cn-dsc-dr", "--normalize", "speaker"]) == 0
    model, classes, config = predict.load_model(tmp_path / "run" / "best.npz")
    assert config.normalize == "speaker"
    wavs = sorted((tmp_path / "data").rglob("*.wav"))[:4]
    results = predict.predict_speaker(model, classes, config, wavs)
    from lcn_np.data.audio import load_audio
    from lcn_np.data.features import speaker_normalize, spectrogram_image
    images = speaker_normalize(numpy.stack([spectrogram_image(load_audio(w), config) for w in wavs]), ["x"] * 4, config)
    expected = model.forward(images)
    for w, e in zip(wavs, expected):
        numpy.testing.assert_allclose([results[w][1][c] for c in classes], e, rtol=1e-5)
    alone = predict.predict_file(model, classes, config, wavs[0])[1]
    single = spectrogram_image(load_audio(wavs[0]), config)[None]
    numpy.testing.assert_allclose([alone[c] for c in classes],
                                  model.forward(speaker_normalize(single, ["x"], config))[0], rtol=1e-5)
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    capsys.readouterr()
    code = predict.main(["--checkpoint", str(tmp_path / "run" / "best.npz"), str(wavs[0]), str(bad), str(wavs[1])])
    captured = capsys.readouterr()
    assert code == 1 and "bad.wav: ERROR" in captured.out and "one speaker's utterances" in captured.err
    assert captured.out.count("[capsule length]") == 2
