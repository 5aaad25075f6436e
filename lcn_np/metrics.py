"""Reading the results: confusion matrix, WA, per-class recall, UA — and the paper's Table 3 row.

- WA, weighted accuracy: the share of all test utterances recognised correctly.
- Recall of class k: the share of class-k utterances recognised as k (the paper's per-emotion
  "recognition rate").
- UA, unweighted accuracy: the mean of the per-class recalls — the paper's "average recognition rate".
  On a balanced test set (CASIA's stratified split) UA = WA; on unbalanced corpora (EmoDB, RAVDESS)
  they differ, and UA is the one that does not reward ignoring the rare classes.
"""

import numpy

from .backend import to_numpy


def confusion_matrix(y_true, y_pred, n_classes):
    """C[i, j] = number of utterances of class i predicted as class j."""
    C = numpy.zeros((n_classes, n_classes), dtype=numpy.int64)
    numpy.add.at(C, (to_numpy(y_true), to_numpy(y_pred)), 1)       # labels may come from the device
    return C


def scores(y_true, y_pred, n_classes):
    """dict with wa, ua, recall (list), confusion (list of lists)."""
    C = confusion_matrix(y_true, y_pred, n_classes)
    support = C.sum(axis=1)
    recall = numpy.where(support > 0, C.diagonal() / numpy.maximum(support, 1), numpy.nan)
    return {"wa": float(C.diagonal().sum() / max(C.sum(), 1)), "ua": float(numpy.nanmean(recall)),
            "recall": [float(r) for r in recall], "confusion": C.tolist()}


def table3_row(classes, result, train_seconds, label="ours"):
    """The paper's Table 3 layout: recognition rate per emotion, the average, and the training time."""
    head = f"{'model':12s}" + "".join(f"{c:>10s}" for c in classes) + f"{'average':>10s}{'WA':>8s}{'time':>10s}"
    row = f"{label:12s}" + "".join(f"{100 * r:9.2f}%" for r in result["recall"]) + \
          f"{100 * result['ua']:9.2f}%{100 * result['wa']:7.2f}%{train_seconds / 60:8.1f} min"
    return head + "\n" + row


def confusion_text(classes, confusion):
    """Rows: true class; columns: predicted class."""
    w = max(8, max(len(c) for c in classes) + 1)
    corner = "true \\ predicted"
    lines = [f"{corner:>{w + 8}s}" + "".join(f"{c[:w - 1]:>{w}s}" for c in classes)]
    for c, row in zip(classes, confusion):
        lines.append(f"{c:>{w + 8}s}" + "".join(f"{v:{w}d}" for v in row))
    return "\n".join(lines)


def mean_std_table(classes, named_results, label="ours"):
    """Table 3 layout for several runs (seeds, folds or held-out speakers): one row each, then mean ± std.

    ``named_results``: [(row name, result dict with recall, ua, wa, train_seconds)]."""
    w = max([16, len(label) + 1] + [len(str(name)) + 1 for name, _ in named_results])
    head = f"{label:{w}s}" + "".join(f"{c:>15s}" for c in classes) + f"{'average':>15s}{'WA':>15s}{'time':>10s}"
    lines = [head]
    for name, r in named_results:
        lines.append(f"{name:{w}s}" + "".join(f"{100 * v:14.2f}%" for v in r["recall"])
                     + f"{100 * r['ua']:14.2f}%{100 * r['wa']:14.2f}%{r['train_seconds'] / 60:7.1f} min")
    recall = numpy.array([r["recall"] for _, r in named_results]) * 100
    ua = numpy.array([r["ua"] for _, r in named_results]) * 100
    wa = numpy.array([r["wa"] for _, r in named_results]) * 100
    cell = lambda m, s: f"{m:6.2f} ± {s:5.2f}"                      # noqa: E731
    lines.append(f"{'mean ± std':{w}s}" + "".join(f"{cell(m, s):>15s}" for m, s in zip(recall.mean(0), recall.std(0)))
                 + f"{cell(ua.mean(), ua.std()):>15s}{cell(wa.mean(), wa.std()):>15s}"
                 + f"{numpy.mean([r['train_seconds'] for _, r in named_results]) / 60:7.1f} min")
    return "\n".join(lines)


def paired_comparison(a, b):
    """Is model A above model B beyond the noise of a few seeds? Paired by seed: the same seed gives both
    the same split, so the split's luck cancels in the difference d_s = UA_A(s) − UA_B(s).

    ``a``, ``b``: {seed: UA}; only the seeds both have count. With n seeds, mean d̄ and standard deviation
    s_d (n − 1 in the denominator), the paired t statistic is t = d̄ / (s_d / √n) with n − 1 degrees of
    freedom. The verdict is 'A > B' (or 'A < B') when every seed agrees on the sign and the two-sided
    p-value of t is under 0.05, else 'within noise'. With 3 seeds that needs |t| > 4.30: a consistent gap
    several times larger than its spread — a deliberately strict bar for 240 test utterances per run.

    Returns dict(seeds, diffs, mean, std, t, p, verdict)."""
    from scipy.stats import t as student_t
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        raise ValueError(f"a paired comparison needs at least 2 common seeds, got {seeds}")
    d = numpy.array([a[s] - b[s] for s in seeds], dtype=float)
    mean, std = float(d.mean()), float(d.std(ddof=1))
    if std == 0:
        t, p = (numpy.inf * numpy.sign(mean) if mean else 0.0), (0.0 if mean else 1.0)
    else:
        t = mean / (std / len(d) ** 0.5)
        p = float(2 * student_t.sf(abs(t), len(d) - 1))
    same_sign = bool(numpy.all(d > 0) or numpy.all(d < 0))
    verdict = ("A > B" if mean > 0 else "A < B") if same_sign and p < 0.05 else "within noise"
    return {"seeds": seeds, "diffs": d.tolist(), "mean": mean, "std": std, "t": float(t), "p": p,
            "verdict": verdict}
