"""Train/validation/test splits: the paper's stratified random 80/20, leave-speakers-out, leave-one-
speaker-out, K folds — a validation share carved from each training portion — and leakage.

CASIA has 4 speakers saying the same 50 sentences in all 6 emotions. A random split therefore puts
every speaker and almost every sentence on both sides: the network can recognise *who* and *what*
rather than *how*. That is the paper's protocol and we reproduce it, but :func:`leakage_report` says
so, and ``--split speaker`` / ``--split loso`` give the honest speaker-independent figure.

Model selection (which epoch becomes best.npz) uses a validation set carved from the *training* portion
(:func:`carve_validation`); the test set is scored for the record and never chooses anything.
"""

import json
import pathlib

import numpy


def stratified_split(labels, test_size=0.2, seed=0):
    """Per class, a random ``test_size`` share goes to the test set. Returns (train_idx, test_idx)."""
    if not 0 < test_size < 1:
        raise ValueError(f"--test-size must be between 0 and 1, got {test_size}")
    labels = numpy.asarray(labels)
    rng = numpy.random.default_rng(seed)
    test = []
    for c in numpy.unique(labels):
        idx = rng.permutation(numpy.flatnonzero(labels == c))
        test += idx[:max(1, int(round(test_size * len(idx))))].tolist()
    test = numpy.sort(numpy.array(test, dtype=numpy.int64))
    train = numpy.setdiff1d(numpy.arange(len(labels)), test)
    return train, test


def speaker_split(items, test_speakers=1, seed=0):
    """Leave speakers out: ``test_speakers`` (a count, or a list of names) go entirely to the test set."""
    speakers = sorted({it.speaker for it in items})
    if None in speakers:
        raise ValueError("--split speaker needs speaker information, which this corpus layout does not have")
    if isinstance(test_speakers, int):
        if not 0 < test_speakers < len(speakers):
            raise ValueError(f"cannot hold out {test_speakers} of {len(speakers)} speakers")
        test_speakers = list(numpy.random.default_rng(seed).permutation(speakers)[:test_speakers])
    is_test = numpy.array([it.speaker in test_speakers for it in items])
    return numpy.flatnonzero(~is_test), numpy.flatnonzero(is_test)


def carve_validation(labels, train_idx, val_size=0.1, seed=0):
    """Split ``train_idx`` into (train, validation): a stratified ``val_size`` share of each class.

    ``val_size`` = 0 keeps everything for training (no validation set). Returns sorted index arrays."""
    train_idx = numpy.asarray(train_idx)
    if val_size == 0:
        return train_idx, train_idx[:0]
    inner_train, inner_val = stratified_split(numpy.asarray(labels)[train_idx], val_size, seed + 10007)
    return train_idx[inner_train], train_idx[inner_val]


def loso_splits(items):
    """Leave one speaker out: one (speaker, train_idx, test_idx) per speaker, in name order."""
    speakers = sorted({it.speaker for it in items} - {None})
    if len(speakers) < 2 or any(it.speaker is None for it in items):
        raise ValueError("--split loso needs at least two speakers and speaker information for every file, "
                         "which this corpus layout does not give (use --split random or --folds K)")
    is_spk = numpy.array([it.speaker for it in items])
    return [(f"speaker-{s}", numpy.flatnonzero(is_spk != s), numpy.flatnonzero(is_spk == s)) for s in speakers]


def stratified_kfold(labels, k, seed=0):
    """K (train_idx, test_idx) pairs; every index is in exactly one test fold, classes spread evenly."""
    labels = numpy.asarray(labels)
    if k < 2 or k > numpy.bincount(labels).min():
        raise ValueError(f"--folds must be between 2 and the size of the smallest class, got {k}")
    rng = numpy.random.default_rng(seed)
    fold_of = numpy.empty(len(labels), dtype=int)
    for c in numpy.unique(labels):
        idx = rng.permutation(numpy.flatnonzero(labels == c))
        fold_of[idx] = numpy.arange(len(idx)) % k
    return [(numpy.flatnonzero(fold_of != f), numpy.flatnonzero(fold_of == f)) for f in range(k)]


def leakage_report(items, train_idx, test_idx, split="random"):
    """Warnings about speakers and sentences that appear in both the training and the test set.

    The advice names only what would help: a speaker split removes shared speakers; nothing that splits
    by speaker removes shared sentences when every speaker reads the same ones (CASIA, EmoDB)."""
    warnings = []
    for what in ("speaker", "sentence"):
        tr = {getattr(items[i], what) for i in train_idx} - {None}
        te = {getattr(items[i], what) for i in test_idx} - {None}
        shared = tr & te
        if not shared:
            continue
        listed = f"({', '.join(sorted(map(str, shared))[:4])}{'…' if len(shared) > 4 else ''})"
        if what == "speaker":
            advice = "accuracy is optimistic; use --split speaker for a speaker-independent test"
        elif split in ("speaker", "loso"):
            advice = ("the speakers read the same sentences, so no speaker split avoids this: the figure is "
                      "speaker-independent but not text-independent")
        else:
            advice = ("accuracy is optimistic; the speakers read the same sentences, so even --split speaker "
                      "gives a speaker- but not text-independent figure")
        warnings.append(f"{len(shared)} of {len(te)} test {what}s also occur in training {listed}: {advice}")
    return warnings


def write_split(path, items, train_idx, test_idx, val_idx=()):
    """The split's file lists as JSON, so the exact split can be inspected and reproduced."""
    doc = {"train": [items[i].path for i in train_idx], "val": [items[i].path for i in val_idx],
           "test": [items[i].path for i in test_idx]}
    pathlib.Path(path).write_text(json.dumps(doc, indent=1))
