"""Splits: stratified proportions, speakers held out, folds that cover everything once, leakage."""

import json

import numpy
import pytest

from lcn_np.data.corpora import Item
from lcn_np.data.splits import leakage_report, speaker_split, stratified_kfold, stratified_split, write_split


def items():
    return [Item(f"{s}/{c}/{i}.wav", c, s, str(i)) for s in ("a", "b", "c") for c in range(3) for i in range(10)]


def test_stratified_split_per_class():
    labels = numpy.array([it.label for it in items()])
    tr, te = stratified_split(labels, 0.2, seed=1)
    assert len(set(tr) & set(te)) == 0 and len(tr) + len(te) == len(labels)
    assert numpy.bincount(labels[te]).tolist() == [6, 6, 6]
    assert not numpy.array_equal(te, stratified_split(labels, 0.2, seed=2)[1])


def test_speaker_split_holds_out_whole_speakers():
    its = items()
    tr, te = speaker_split(its, 1, seed=0)
    assert len({its[i].speaker for i in te}) == 1 and not {its[i].speaker for i in te} & {its[i].speaker for i in tr}
    tr, te = speaker_split(its, ["b"])
    assert {its[i].speaker for i in te} == {"b"}
    with pytest.raises(ValueError, match="cannot hold out"):
        speaker_split(its, 3)


def test_kfold_covers_each_item_once():
    labels = numpy.array([it.label for it in items()])
    folds = stratified_kfold(labels, 5, seed=0)
    tests = numpy.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(len(labels)))
    with pytest.raises(ValueError, match="--folds"):
        stratified_kfold(labels, 1)


def test_leakage_report_and_split_file(tmp_path):
    its = items()
    labels = numpy.array([it.label for it in its])
    tr, te = stratified_split(labels, 0.2, 0)
    warnings = leakage_report(its, tr, te)
    assert any("test speakers" in w for w in warnings) and any("test sentences" in w for w in warnings)
    tr, te = speaker_split(its, ["a"])
    warnings = leakage_report(its, tr, te, split="speaker")
    assert not any("test speakers" in w for w in warnings)
    # the speakers read the same sentences: the split in use cannot fix that, so it is not advised
    sentence, = [w for w in warnings if "test sentences" in w]
    assert "--split speaker" not in sentence and "not text-independent" in sentence
    write_split(tmp_path / "split.json", its, tr, te)
    doc = json.loads((tmp_path / "split.json").read_text())
    assert len(doc["test"]) == 30 and doc["test"][0].startswith("a/")
