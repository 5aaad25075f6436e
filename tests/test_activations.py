"""ReLU and ReLU6."""

import numpy
import pytest

from lcn_np.ops import relu6_backward, relu6_forward, relu_backward, relu_forward
from lcn_np.gradcheck import assert_gradients_close


@pytest.mark.parametrize("pair", [(relu_forward, relu_backward), (relu6_forward, relu6_backward)])
def test_gradients(xp, rng, pair):
    x = xp.asarray(rng.uniform(-8, 8, size=(3, 5, 7)))
    assert_gradients_close(*pair, [x], names=["x"])


def test_values_and_dtype(rng):
    x = numpy.array([-1.0, 0.5, 7.0], dtype=numpy.float32)
    assert relu_forward(x)[0].tolist() == [0.0, 0.5, 7.0]
    out, cache = relu6_forward(x)
    assert out.tolist() == [0.0, 0.5, 6.0] and out.dtype == numpy.float32
    assert relu6_backward(numpy.ones_like(x), cache).tolist() == [0, 1, 0]
