"""WA, UA, per-class recall and the confusion matrix."""

import numpy
import pytest

from lcn_np.metrics import confusion_matrix, confusion_text, scores, table3_row


def test_scores_on_unbalanced_data():
    y_true = numpy.array([0, 0, 0, 0, 1, 2])
    y_pred = numpy.array([0, 0, 0, 0, 0, 2])
    r = scores(y_true, y_pred, 3)
    assert r["wa"] == pytest.approx(5 / 6) and r["recall"] == [1.0, 0.0, 1.0] and r["ua"] == pytest.approx(2 / 3)
    assert confusion_matrix(y_true, y_pred, 3)[1, 0] == 1


def test_tables():
    r = scores([0, 1], [0, 0], 2)
    row = table3_row(["angry", "sad"], r, 90)
    assert "100.00%" in row and "50.00%" in row and "1.5 min" in row
    assert "true \\ predicted" in confusion_text(["angry", "sad"], r["confusion"])


def test_paired_comparison_separates_a_consistent_gap_from_noise():
    from lcn_np.metrics import paired_comparison
    from scipy.stats import ttest_rel
    a = {2: 0.80, 3: 0.77, 4: 0.81}
    b = {2: 0.70, 3: 0.68, 4: 0.72, 9: 0.99}               # seed 9 has no partner and does not count
    r = paired_comparison(a, b)
    assert r["seeds"] == [2, 3, 4] and r["verdict"] == "A > B"
    assert numpy.allclose(r["diffs"], [0.10, 0.09, 0.09])
    assert numpy.isclose(r["p"], ttest_rel([0.80, 0.77, 0.81], [0.70, 0.68, 0.72]).pvalue)
    assert paired_comparison(b, a)["verdict"] == "A < B"
    # the same mean gap, but one seed disagrees: noise
    assert paired_comparison({2: 0.9, 3: 0.6, 4: 0.88}, {2: 0.7, 3: 0.7, 4: 0.7})["verdict"] == "within noise"
    # every seed agrees but the spread is as large as the gap: still noise
    assert paired_comparison({2: 0.71, 3: 0.80, 4: 0.72}, {2: 0.70, 3: 0.70, 4: 0.70})["verdict"] == "within noise"
    with pytest.raises(ValueError, match="2 common seeds"):
        paired_comparison({1: 0.5}, {1: 0.4, 2: 0.3})
