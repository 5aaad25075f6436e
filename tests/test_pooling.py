"""Max-pooling and global average pooling: gradients, forward against loops and torch, ties, errors."""

import numpy
import pytest

from lcn_np.backend import to_numpy
from lcn_np.gradcheck import assert_gradients_close
from lcn_np.ops import (global_avgpool_backward, global_avgpool_forward, maxpool2d_backward,
                            maxpool2d_forward)


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 2), (2, 1), (3, 3)])
def test_maxpool_gradients(xp, rng, size, stride):
    x = xp.asarray(rng.standard_normal((2, 3, 7, 9)))
    assert_gradients_close(maxpool2d_forward, maxpool2d_backward, [x], names=["x"],
                           kwargs=dict(size=size, stride=stride))


def test_maxpool_forward_matches_loop_floor_mode(rng):
    x = rng.standard_normal((2, 3, 7, 9))
    out = maxpool2d_forward(x, 2, 2)[0]
    assert out.shape == (2, 3, 3, 4)
    for i in range(3):
        for j in range(4):
            numpy.testing.assert_array_equal(out[:, :, i, j], x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(2, 3)))


def test_maxpool_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9, 8)).astype(numpy.float32)
    theirs = torch.nn.functional.max_pool2d(torch.from_numpy(x), 3, 2)
    numpy.testing.assert_array_equal(maxpool2d_forward(x, 3, 2)[0], theirs.numpy())


def test_maxpool_tie_sends_gradient_to_one_position():
    x = numpy.ones((1, 1, 2, 2))
    out, cache = maxpool2d_forward(x)
    dx = maxpool2d_backward(numpy.ones_like(out), cache)
    assert dx.sum() == 1 and dx[0, 0, 0, 0] == 1


def test_global_avgpool(xp, rng):
    x = xp.asarray(rng.standard_normal((2, 3, 5, 7)))
    assert_gradients_close(global_avgpool_forward, global_avgpool_backward, [x], names=["x"])
    numpy.testing.assert_allclose(to_numpy(global_avgpool_forward(x)[0]), to_numpy(x).mean(axis=(2, 3)))


def test_dtype_and_errors(rng):
    x = rng.standard_normal((2, 3, 6, 5)).astype(numpy.float32)
    out, cache = maxpool2d_forward(x)
    assert out.dtype == numpy.float32 and maxpool2d_backward(out, cache).dtype == numpy.float32
    with pytest.raises(ValueError, match="x: expected a 4-D array"):
        maxpool2d_forward(x[0])
    with pytest.raises(ValueError, match="smaller than the pooling window"):
        maxpool2d_forward(x[:, :, :1])
