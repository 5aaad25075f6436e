"""predict: every class's score per file from a checkpoint alone; bad files reported, the rest done."""

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
