"""Corpus layouts on fake directory trees, auto-detection, and the real CASIA tree where present."""

import numpy
import pytest
import soundfile

from conftest import shared_path
from lcn_np.data.corpora import CASIA_CLASSES, detect_dataset, load_corpus


def touch_wav(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, numpy.zeros(100), 16000)


def test_casia_layout(tmp_path):
    for spk in ("spkA", "spkB"):
        for emo in ("sad", "angry", "fear"):
            for i in (201, 202):
                touch_wav(tmp_path / spk / emo / f"{i}.wav")
    corpus = load_corpus(tmp_path)
    assert corpus.name == "casia" and corpus.classes == ("angry", "fear", "sad") and len(corpus) == 12
    item = [it for it in corpus.items if it.path.endswith("spkB/sad/202.wav")][0]
    assert (item.label, item.speaker, item.sentence) == (2, "spkB", "202")


def test_emodb_layout(tmp_path):
    for name in ("03a01Fa", "03a01Wa", "08b02Tc", "16a05Na", "11b03La"):
        touch_wav(tmp_path / "wav" / f"{name}.wav")
    corpus = load_corpus(tmp_path)
    assert corpus.name == "emodb" and set(corpus.classes) == {"happy", "angry", "sad", "neutral", "boredom"}
    item = [it for it in corpus.items if "08b02Tc" in it.path][0]
    assert corpus.classes[item.label] == "sad" and item.speaker == "08" and item.sentence == "b02"


def test_ravdess_layout_skips_song_and_video(tmp_path):
    touch_wav(tmp_path / "Actor_01" / "03-01-05-01-02-01-01.wav")
    touch_wav(tmp_path / "Actor_02" / "03-01-01-01-01-01-02.wav")
    touch_wav(tmp_path / "Actor_02" / "03-02-01-01-01-01-02.wav")   # song: skipped
    touch_wav(tmp_path / "Actor_02" / "01-01-01-01-01-01-02.wav")   # video: skipped
    corpus = load_corpus(tmp_path)
    assert corpus.name == "ravdess" and len(corpus) == 2 and corpus.classes == ("angry", "neutral")
    assert {it.speaker for it in corpus.items} == {"01", "02"}


def test_folder_per_class(tmp_path):
    for label in ("calm", "excited"):
        touch_wav(tmp_path / label / "x.wav")
        touch_wav(tmp_path / label / "y.flac")
    corpus = load_corpus(tmp_path)
    assert corpus.name == "folder" and corpus.classes == ("calm", "excited") and len(corpus) == 4


def test_detect_and_errors(tmp_path):
    with pytest.raises(ValueError, match="no such directory"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="the directory is empty"):
        load_corpus(tmp_path / "empty")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "readme.txt").write_text("hi")
    with pytest.raises(ValueError, match="no known corpus layout"):
        detect_dataset(tmp_path / "junk")
    with pytest.raises(ValueError, match="--dataset must be one of"):
        load_corpus(tmp_path / "junk", "timit")


def test_real_casia_tree():
    root = shared_path("data", "casia")
    corpus = load_corpus(root)
    assert corpus.name == "casia" and corpus.classes == CASIA_CLASSES and len(corpus) == 1200
    assert len({it.speaker for it in corpus.items}) == 4 and len({it.sentence for it in corpus.items}) == 50
