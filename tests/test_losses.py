"""Margin loss and softmax cross-entropy."""

import numpy
import pytest

from lcn_np.backend import to_numpy
from lcn_np.gradcheck import assert_gradients_close
from lcn_np.ops import (margin_loss_backward, margin_loss_forward, softmax_cross_entropy_backward,
                           softmax_cross_entropy_forward)


def test_margin_gradient(xp, rng):
    lengths = xp.asarray(rng.uniform(0.02, 0.98, size=(5, 7)))
    labels = xp.asarray(rng.integers(0, 7, size=5))
    assert_gradients_close(margin_loss_forward, margin_loss_backward, [lengths, labels], names=["lengths", "labels"])


def test_margin_value_by_hand():
    lengths = numpy.array([[0.5, 0.3, 0.05], [0.95, 0.2, 0.6]])
    labels = numpy.array([0, 2])
    expected = ((0.9 - 0.5) ** 2 + 0.5 * (0.3 - 0.1) ** 2 + 0) + (0.5 * (0.95 - 0.1) ** 2 + 0.5 * (0.2 - 0.1) ** 2
                                                                  + (0.9 - 0.6) ** 2)
    assert float(margin_loss_forward(lengths, labels)[0]) == pytest.approx(expected / 2)


def test_cross_entropy_gradient_and_value(xp, rng):
    logits = xp.asarray(rng.standard_normal((5, 7)) * 3)
    labels = xp.asarray(rng.integers(0, 7, size=5))
    assert_gradients_close(softmax_cross_entropy_forward, softmax_cross_entropy_backward, [logits, labels],
                           names=["logits", "labels"])
    z = to_numpy(logits - logits.max(1, keepdims=True))
    p = numpy.exp(z) / numpy.exp(z).sum(1, keepdims=True)
    assert float(softmax_cross_entropy_forward(logits, labels)[0]) == pytest.approx(
        -numpy.log(p[numpy.arange(5), to_numpy(labels)]).mean())


def test_cross_entropy_matches_torch_and_is_stable(rng):
    torch = pytest.importorskip("torch")
    logits = rng.standard_normal((4, 6)) * 500
    labels = rng.integers(0, 6, size=4)
    ours = float(softmax_cross_entropy_forward(logits, labels)[0])
    assert ours == pytest.approx(float(torch.nn.functional.cross_entropy(torch.from_numpy(logits),
                                                                         torch.from_numpy(labels))))


def test_bad_labels_and_nan(rng):
    lengths = rng.uniform(size=(3, 4)).astype(numpy.float32)
    loss, cache = margin_loss_forward(lengths, numpy.array([0, 1, 3]))
    assert loss.dtype == numpy.float32 and margin_loss_backward(cache).dtype == numpy.float32
    with pytest.raises(ValueError, match="labels: every label must be in 0 … 3"):
        margin_loss_forward(lengths, numpy.array([0, 1, 4]))
    with pytest.raises(ValueError, match="labels: expected integers of shape"):
        softmax_cross_entropy_forward(lengths, numpy.array([0.0, 1.0, 2.0]))
    lengths[1, 2] = numpy.nan
    with pytest.raises(FloatingPointError, match="NaN"):
        margin_loss_forward(lengths, numpy.array([0, 1, 3]))
