"""Emotional-speech corpora as lists of items: path, emotion label, speaker, sentence.

Layouts (``load_corpus(root, dataset="auto")`` detects which):
- ``casia``:   <root>/<speaker>/<emotion>/<id>.wav — the paper's corpus; classes in the paper's order
  angry, fear, happy, neutral, sad, surprise; the same 50 sentence ids in every emotion.
- ``emodb``:   <root>/[wav/]<ss><ttt><E><v>.wav — speaker ss, text ttt, emotion letter E (German):
  W anger, L boredom, E disgust, A fear (Angst), F happiness, T sadness, N neutral.
- ``ravdess``: <root>/Actor_XX/03-01-EE-II-SS-RR-AA.wav — modality 03 (audio only), channel 01 (speech);
  EE the emotion, SS the statement, AA the actor.
- ``folder``:  <root>/<label>/*.wav|flac|ogg — one folder per class, speaker unknown.
"""

import pathlib
from dataclasses import dataclass

from .audio import AUDIO_SUFFIXES

CASIA_CLASSES = ("angry", "fear", "happy", "neutral", "sad", "surprise")
EMODB_CODES = {"W": "angry", "L": "boredom", "E": "disgust", "A": "fear", "F": "happy", "T": "sad", "N": "neutral"}
RAVDESS_CODES = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fear",
                 "07": "disgust", "08": "surprise"}
DATASETS = ("casia", "emodb", "ravdess", "folder")


@dataclass(frozen=True)
class Item:
    path: str
    label: int
    speaker: str = None
    sentence: str = None


@dataclass
class Corpus:
    name: str
    classes: tuple
    items: list

    def labels(self):
        return [item.label for item in self.items]

    def __len__(self):
        return len(self.items)


def audio_files(folder):
    return sorted(p for p in pathlib.Path(folder).iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def subdirs(folder):
    return sorted(p for p in pathlib.Path(folder).iterdir() if p.is_dir() and not p.name.startswith("."))


def ordered_classes(names):
    """CASIA's order for the emotions it has, the others after it alphabetically."""
    known = [c for c in CASIA_CLASSES if c in names]
    return tuple(known + sorted(set(names) - set(known)))


def load_casia(root):
    entries = []
    for speaker in subdirs(root):
        for emotion in subdirs(speaker):
            entries += [(f, emotion.name, speaker.name, f.stem) for f in audio_files(emotion)]
    return _make("casia", entries)


def load_emodb(root):
    root = pathlib.Path(root)
    folder = root / "wav" if (root / "wav").is_dir() else root
    entries = [(f, EMODB_CODES[f.stem[5]], f.stem[:2], f.stem[2:5]) for f in audio_files(folder)
               if len(f.stem) >= 7 and f.stem[5] in EMODB_CODES and f.stem[:2].isdigit()]
    return _make("emodb", entries)


def load_ravdess(root):
    entries = []
    for actor in subdirs(root):
        for f in audio_files(actor):
            parts = f.stem.split("-")
            if len(parts) == 7 and parts[0] == "03" and parts[1] == "01" and parts[2] in RAVDESS_CODES:
                entries.append((f, RAVDESS_CODES[parts[2]], parts[6], parts[4]))
    return _make("ravdess", entries)


def load_folder(root):
    entries = []
    for label in subdirs(root):
        entries += [(f, label.name, None, None) for f in audio_files(label)]
    return _make("folder", entries)


def _make(name, entries):
    classes = ordered_classes({e[1] for e in entries})
    index = {c: i for i, c in enumerate(classes)}
    items = [Item(str(f), index[label], speaker, sentence) for f, label, speaker, sentence in entries]
    return Corpus(name, classes, items)


LOADERS = {"casia": load_casia, "emodb": load_emodb, "ravdess": load_ravdess, "folder": load_folder}


def detect_dataset(root):
    """Which layout ``root`` has: casia, emodb, ravdess or folder."""
    root = pathlib.Path(root)
    dirs = subdirs(root)
    if any(d.name.startswith("Actor_") for d in dirs):
        return "ravdess"
    if load_emodb(root).items:
        return "emodb"
    if dirs and all(subdirs(d) for d in dirs) and any(audio_files(e) for d in dirs for e in subdirs(d)):
        return "casia"
    if dirs and any(audio_files(d) for d in dirs):
        return "folder"
    raise ValueError(
        f"--data {root}: no known corpus layout found. Expected one of: "
        "<root>/<speaker>/<emotion>/*.wav (CASIA), <root>/*.wav named like 03a01Fa.wav (EmoDB), "
        "<root>/Actor_XX/03-01-EE-II-SS-RR-AA.wav (RAVDESS), or <root>/<label>/*.wav (a folder per class).")


def load_corpus(root, dataset="auto"):
    """Read a corpus directory into a :class:`Corpus`; errors name the directory and the fix."""
    root = pathlib.Path(root)
    if not root.is_dir():
        raise ValueError(f"--data {root}: no such directory")
    if not any(root.iterdir()):
        raise ValueError(f"--data {root}: the directory is empty")
    if dataset == "auto":
        dataset = detect_dataset(root)
    if dataset not in LOADERS:
        raise ValueError(f"--dataset must be one of auto, {', '.join(DATASETS)}; got {dataset!r}")
    corpus = LOADERS[dataset](root)
    if not corpus.items:
        raise ValueError(f"--data {root}: no audio files in the {dataset} layout were found")
    if len(corpus.classes) < 2:
        raise ValueError(f"--data {root}: found only the class {corpus.classes}; emotion recognition needs at least two")
    return corpus
