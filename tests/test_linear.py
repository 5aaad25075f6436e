"""Fully connected layer."""

import numpy
import pytest

from lcn_np.gradcheck import assert_gradients_close
from lcn_np.ops import linear_backward, linear_forward


@pytest.mark.parametrize("bias", [True, False])
def test_gradients(xp, rng, bias):
    args = [xp.asarray(rng.standard_normal((5, 7))), xp.asarray(rng.standard_normal((3, 7))),
            xp.asarray(rng.standard_normal(3)) if bias else None]
    assert_gradients_close(linear_forward, linear_backward, args, names=["x", "w", "b"])


def test_forward_dtype_errors(rng):
    x, w, b = (rng.standard_normal(s).astype(numpy.float32) for s in [(5, 7), (3, 7), (3,)])
    out = linear_forward(x, w, b)[0]
    numpy.testing.assert_allclose(out, x @ w.T + b, rtol=1e-6)
    assert out.dtype == numpy.float32
    with pytest.raises(ValueError, match=r"w: expected shape \(\*, 7\), got \(3, 6\)"):
        linear_forward(x, w[:, :6])
