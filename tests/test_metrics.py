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
