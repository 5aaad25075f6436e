"""``python -m lcn_np.baseline``: a classical baseline on the same splits as ``lcn_np.train``.

Each utterance becomes one fixed-length vector of statistics — 30 MFCCs and their deltas (our own power
spectrogram, mel filterbank and DCT: :func:`lcn_np.data.features.mfcc`) and 64 log mel-band energies, and
for each of these 124 tracks the mean and standard deviation over time (248 numbers) — standardised with
the training set's mean and std, and classified by an RBF support-vector machine (scikit-learn, the
optional extra ``lcn-np[baseline]``) or, without scikit-learn or with ``--classifier logreg``, by a
multinomial logistic regression written out below.

Measured on CASIA, stratified 80/20 with 10 % of the training part for validation, seeds 0–2: 84.3 ± 2.1 %
test UA (13 MFCCs with deltas, delta-deltas and mean/std/min/max: 72.6 %; 30 MFCCs alone: 80.4 %).
``--normalize speaker`` first z-scores every track over all of a speaker's frames (no labels used): on
the random split seeds 0–2 it changes nothing beyond noise (82.1 / 87.1 / 83.8 → 80.8 / 87.5 / 84.2 %),
leaving one speaker out it lifts the mean over CASIA's four speakers from 33.7 to 48.8 %.

The splits are made by the same functions and arguments as ``lcn_np.train`` (``--seed``, ``--split``,
``--test-size``, ``--val-size``, ``--folds``), so the same command line gives the same test files, and
``--split-from RUN/split.json`` reuses a training run's file lists exactly. The SVM's C and γ are chosen
on the validation set, never on the test set. "Above the baseline" is then something you can check on
your own corpus.
"""

import argparse
import json
import pathlib
import sys
import time

import numpy

from .data.audio import AudioError, load_audio
from .data.corpora import load_corpus
from .data.features import FeatureConfig, dct_matrix, deltas, log_mel_energies, zscore_by_speaker
from .metrics import confusion_text, mean_std_table, scores, table3_row

GRID = [(C, gamma) for C in (1.0, 3.0, 10.0, 30.0, 100.0) for gamma in ("scale", 0.3, 1.0, 3.0)]  # γ × 1/n_features


def utterance_tracks(wave, config, n_mfcc=30, n_mels=64):
    """(124, frames): 30 MFCCs, their deltas and 64 log mel-band energies of each frame."""
    log_mel = log_mel_energies(wave, config, n_mels)           # (64, frames)
    c = dct_matrix(n_mfcc, n_mels) @ log_mel                   # (30, frames): the MFCCs
    return numpy.concatenate([c, deltas(c), log_mel])


def utterance_vector(wave, config, n_mfcc=30, n_mels=64):
    """248 numbers: mean and std over time of 30 MFCCs, their deltas and 64 log mel-band energies."""
    return statistics(utterance_tracks(wave, config, n_mfcc, n_mels))


def statistics(tracks):
    return numpy.concatenate([tracks.mean(1), tracks.std(1)])


def corpus_vectors(items, config, log=print, by_speaker=False):
    """(V (N, 248), kept items); unreadable files are named and skipped.

    ``by_speaker``: every track z-scored over all frames of the speaker's utterances before the statistics
    (per-speaker normalisation; no labels used, so a test speaker's own files may provide it)."""
    tracks, kept = [], []
    for item in items:
        try:
            tracks.append(utterance_tracks(load_audio(item.path, config.sample_rate), config))
            kept.append(item)
        except AudioError as exc:
            log(f"skipped: {exc}")
    if by_speaker:
        tracks = zscore_by_speaker(tracks, [item.speaker for item in kept])
    return numpy.array([statistics(t) for t in tracks]), kept


def fit_logreg(X, y, n_classes, lam=1e-3, steps=500, lr=0.5):
    """Multinomial logistic regression by full-batch gradient descent on standardised X; returns (W, b)."""
    W, b = numpy.zeros((X.shape[1], n_classes)), numpy.zeros(n_classes)
    T = numpy.eye(n_classes)[y]
    for _ in range(steps):
        z = X @ W + b
        p = numpy.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - T) / len(X)                                  # ∂(mean cross-entropy)/∂z
        W -= lr * (X.T @ g + lam * W)
        b -= lr * g.sum(0)
    return W, b


def make_classifier(kind, n_classes, C=None, gamma=None):
    """An object with fit(X, y) and predict(X)."""
    if kind == "svm":
        from sklearn.svm import SVC
        return SVC(C=C, gamma=gamma, kernel="rbf")

    class LogReg:
        def fit(self, X, y):
            self.W, self.b = fit_logreg(X, y, n_classes)
            return self

        def predict(self, X):
            return (X @ self.W + self.b).argmax(1)
    return LogReg()


def run_split(V, y, split, n_classes, kind, log):
    """Standardise on the training set, choose C, γ on validation (SVM), score the test set."""
    tr, va, te = split["train"], split["val"], split["test"]
    mu, sd = V[tr].mean(0), V[tr].std(0) + 1e-8
    Z = (V - mu) / sd
    t0 = time.perf_counter()
    chosen = None
    if kind == "svm":
        best = -1.0
        for C, gamma in GRID:
            g = gamma if gamma == "scale" else gamma / V.shape[1]
            clf = make_classifier("svm", n_classes, C, g).fit(Z[tr], y[tr])
            ua = scores(y[va], clf.predict(Z[va]), n_classes)["ua"] if len(va) else 0.0
            if ua > best:
                best, chosen = ua, (C, g)
        clf = make_classifier("svm", n_classes, *chosen).fit(Z[tr], y[tr])
    else:
        clf = make_classifier("logreg", n_classes).fit(Z[tr], y[tr])
    result = scores(y[te], clf.predict(Z[te]), n_classes)
    result.update(train_seconds=time.perf_counter() - t0, split=split["name"],
                  chosen={"C": chosen[0], "gamma": chosen[1]} if chosen else None)
    return result


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m lcn_np.baseline", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="corpus folder (CASIA, EmoDB, RAVDESS or a folder per class)")
    p.add_argument("--dataset", default="auto", choices=["auto", "casia", "emodb", "ravdess", "folder"])
    p.add_argument("--classifier", default="svm", choices=["svm", "logreg"],
                   help="svm needs scikit-learn (pip install 'lcn-np[baseline]'); logreg is written out here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, nargs="+", metavar="SEED")
    p.add_argument("--split", default="random", choices=["random", "speaker", "loso"])
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--val-size", type=float, default=0.1)
    p.add_argument("--test-speakers", type=int, default=1)
    p.add_argument("--folds", type=int, default=0)
    p.add_argument("--normalize", default="utterance", choices=["utterance", "speaker"],
                   help="speaker: z-score every track over all of the speaker's frames first (as lcn_np.train "
                        "--normalize speaker; helps speaker-independent tests such as --split loso)")
    p.add_argument("--split-from", help="a split.json written by lcn_np.train: use exactly its file lists")
    p.add_argument("--out", default=None, help="write metrics.json here")
    return p.parse_args(argv)


def splits_from_file(path, items):
    """The train/val/test indices of a split.json written by lcn_np.train (files missing here are an error)."""
    doc = json.loads(pathlib.Path(path).read_text())
    index = {item.path: i for i, item in enumerate(items)}
    missing = [f for part in ("train", "val", "test") for f in doc.get(part, []) if f not in index]
    if missing:
        raise ValueError(f"--split-from {path}: {len(missing)} file(s) of the split are not in --data "
                         f"(first: {missing[0]}); give the corpus folder the run was trained on")
    return [{"name": None, **{part: numpy.array([index[f] for f in doc.get(part, [])], dtype=int)
                              for part in ("train", "val", "test")}}]


def main(argv=None):
    from .train import make_splits, summarise
    args = parse_args(argv)
    kind = args.classifier
    if kind == "svm":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            print("note: scikit-learn is not installed (pip install 'lcn-np[baseline]'): using --classifier logreg")
            kind = "logreg"
    try:
        corpus = load_corpus(args.data, args.dataset)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = FeatureConfig()
    t0 = time.perf_counter()
    try:
        V, items = corpus_vectors(corpus.items, config, by_speaker=args.normalize == "speaker")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    y = numpy.array([item.label for item in items], dtype=numpy.int64)
    classes = list(corpus.classes)
    counts = numpy.bincount(y, minlength=len(classes))
    if counts.min() < 2:
        print(f"error: {args.data}: class {classes[int(counts.argmin())]!r} has {counts.min()} readable file(s); "
              "every class needs at least 2 to be split into training and test", file=sys.stderr)
        return 2
    print(f"baseline ({'RBF-SVM' if kind == 'svm' else 'logistic regression'} on MFCC statistics): "
          f"{len(items)} utterances of {corpus.name}, features in {time.perf_counter() - t0:.1f} s")
    per_seed = []
    for seed in args.seeds or [args.seed]:
        args.seed = seed
        try:
            splits = splits_from_file(args.split_from, items) if args.split_from else make_splits(args, y, items)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        results = [run_split(V, y, split, len(classes), kind, print) for split in splits]
        m = summarise(results)
        if len(results) > 1:
            print(mean_std_table(classes, [(r["split"], r) for r in results], f"baseline s{seed}"))
        else:
            print(table3_row(classes, m, m["train_seconds"], f"baseline s{seed}"))
        per_seed.append(m)
    metrics = summarise(per_seed) if len(per_seed) > 1 else per_seed[0]
    if len(per_seed) > 1:
        print(mean_std_table(classes, [(f"seed {s}", m) for s, m in zip(args.seeds, per_seed)], "baseline"))
    print("\nconfusion matrix (test set):\n" + confusion_text(classes, metrics["confusion"]))
    if args.out:
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        metrics.update(classifier=kind, classes=classes, corpus=corpus.name, args=vars(args))
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
