"""Every layer's backward against finite differences, through its parameters and its input."""

import numpy
import pytest

from lcn_np import layers
from lcn_np.gradcheck import check_gradients


def layer_gradcheck(layer, x, tol=1e-5):
    """Check d(input) and every d(param) of a layer with the gradient checker.

    The layer's parameters are passed as extra positional arguments so that the checker can nudge them.
    """
    names = list(layer.params)

    def forward(x, *params):
        for k, p in zip(names, params):
            layer.params[k] = p
        out = layer.forward(x)
        return out, None

    def backward(dout, cache):
        dx = layer.backward(dout)
        return (dx, *[layer.grads[k] for k in names])

    args = [x] + [layer.params[k] for k in names]
    report = check_gradients(forward, backward, args, names=["x"] + names, tol=tol)
    assert report.ok, str(report)


def f64(rng, *shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("make", [
    lambda r: layers.Conv2d(3, 4, 3, 2, 1, rng=r, dtype="float64"),
    lambda r: layers.DepthwiseConv2d(3, 3, 1, (0, 1, 0, 1), bias=True, rng=r, dtype="float64"),
    lambda r: layers.PointwiseConv2d(3, 5, bias=True, rng=r, dtype="float64"),
    lambda r: layers.BatchNorm2d(3, dtype="float64"),
    lambda r: layers.ReLU(), lambda r: layers.ReLU6(), lambda r: layers.MaxPool2d(2, 2),
    lambda r: layers.dsc_block(3, 4, rng=r, dtype="float64"),
    lambda r: layers.conv_block(3, 4, rng=r, dtype="float64"),
], ids=["conv", "depthwise", "pointwise", "batchnorm", "relu", "relu6", "maxpool", "dsc_block", "conv_block"])
def test_image_layers(rng, make):
    layer = make(numpy.random.default_rng(3))
    x = f64(rng, 3, 3, 7, 9) * 2
    if isinstance(layer, layers.Sequential):
        report_ok = check_sequential(layer, x)
        assert report_ok.ok, str(report_ok)
    else:
        layer_gradcheck(layer, x, tol=1e-5)


def check_sequential(seq, x):
    """Gradient of a Sequential w.r.t. its input (its leaves' parameters are checked one by one above)."""
    def forward(x):
        return seq.forward(x), None

    def backward(dout, cache):
        return seq.backward(dout)
    return check_gradients(forward, backward, [x], names=["x"], tol=1e-5)


def test_linear_and_dropout_eval(rng):
    layer_gradcheck(layers.Linear(7, 3, rng=numpy.random.default_rng(1), dtype="float64"), f64(rng, 5, 7))
    d = layers.Dropout(0.5)
    d.eval()
    x = f64(rng, 4, 6)
    assert d.forward(x) is x


def test_dropout_train_scales_and_masks(rng):
    d = layers.Dropout(0.25, rng=numpy.random.default_rng(0))
    x = numpy.ones((200, 50))
    y = d.forward(x)
    assert set(numpy.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.02
    numpy.testing.assert_array_equal(d.backward(numpy.ones_like(x)), y)


@pytest.mark.parametrize("separable", [False, True])
def test_primary_capsules(rng, separable):
    layer = layers.PrimaryCapsules(3, n_types=2, dim=4, kernel=3, stride=2, separable=separable,
                                   rng=numpy.random.default_rng(2), dtype="float64")
    x = f64(rng, 2, 3, 7, 9)
    out = layer.forward(x)
    assert out.shape == (2, 2 * 3 * 4, 4)

    def forward(x):
        return layer.forward(x), None
    report = check_gradients(forward, lambda d, c: layer.backward(d), [x], names=["x"])
    assert report.ok, str(report)


def test_primary_capsule_grouping(rng):
    """Capsule (type t, row i, col j) holds the dim channels of type t at (i, j)."""
    layer = layers.PrimaryCapsules(3, n_types=2, dim=4, kernel=3, stride=2, rng=numpy.random.default_rng(2),
                                   dtype="float64")
    x = f64(rng, 1, 3, 7, 9)
    conv_out = layer.conv.forward(x)                 # (1, 8, 3, 4)
    u = layer.forward(x)
    s = conv_out[0, 4:8, 1, 2]                       # type 1, row 1, col 2
    from lcn_np.ops import squash_forward
    numpy.testing.assert_allclose(u[0, 1 * 12 + 1 * 4 + 2], squash_forward(s)[0], rtol=1e-12)


@pytest.mark.parametrize("agreement", ["dot", "cosine"])
def test_capsule_layer(rng, agreement):
    layer = layers.CapsuleLayer(7, 3, 5, 4, iterations=3, agreement=agreement, rng=numpy.random.default_rng(4),
                                dtype="float64")
    layer_gradcheck(layer, f64(rng, 2, 7, 3) * 0.5)


@pytest.mark.parametrize("agreement", ["dot", "cosine"])
def test_capsule_layer_with_weights_shared_over_positions(rng, agreement):
    """3 types × 5 positions: w is (3, J, Dout, Din); its gradient sums the positions' (finite differences)."""
    layer = layers.CapsuleLayer(15, 3, 5, 4, iterations=3, agreement=agreement, rng=numpy.random.default_rng(4),
                                dtype="float64", shared_types=3)
    assert layer.params["w"].shape == (3, 5, 4, 3)
    layer_gradcheck(layer, f64(rng, 2, 15, 3) * 0.5)


def test_shared_capsule_weights_are_the_tiled_unshared_ones(rng):
    """The same as an unshared layer whose W repeats each type's matrices at every position (capsule i =
    type·P + position), the initial w is the unshared draw's first position, and any number of positions
    goes through."""
    shared = layers.CapsuleLayer(15, 3, 5, 4, agreement="cosine", rng=numpy.random.default_rng(7),
                                 dtype="float64", shared_types=3)
    plain = layers.CapsuleLayer(15, 3, 5, 4, agreement="cosine", rng=numpy.random.default_rng(7), dtype="float64")
    numpy.testing.assert_array_equal(shared.params["w"], plain.params["w"][0::5])
    plain.params["w"][...] = numpy.repeat(shared.params["w"], 5, axis=0)
    u = f64(rng, 2, 15, 3) * 0.5
    numpy.testing.assert_allclose(shared.forward(u), plain.forward(u), rtol=1e-12)
    g = f64(rng, 2, 5, 4)
    shared.backward(g), plain.backward(g)
    numpy.testing.assert_allclose(shared.grads["w"], plain.grads["w"].reshape(3, 5, 5, 4, 3).sum(axis=1), rtol=1e-12)
    assert shared.forward(f64(rng, 2, 3 * 8, 3)).shape == (2, 5, 4)        # 8 positions instead of 5
    with pytest.raises(ValueError, match="whole number of positions"):
        shared.forward(f64(rng, 2, 16, 3))
    with pytest.raises(ValueError, match="does not divide"):
        layers.CapsuleLayer(16, 3, 5, 4, shared_types=3)


@pytest.mark.parametrize("agreement", ["dot", "cosine"])
@pytest.mark.parametrize("n_in", [512, 4608])
def test_capsule_init_is_neither_dead_nor_saturated(agreement, n_in):
    """A too-small W trains to chance (lengths ~0), a too-large one saturates squash (lengths ~1)."""
    r = numpy.random.default_rng(0)
    u = r.standard_normal((4, n_in, 8))
    u *= 0.9 / numpy.linalg.norm(u, axis=-1, keepdims=True)          # squashed primary capsules
    layer = layers.CapsuleLayer(n_in, 8, 6, 16, agreement=agreement, rng=r)
    lengths = numpy.linalg.norm(layer.forward(u.astype(numpy.float32)), axis=-1)
    assert 0.05 < lengths.mean() < 0.9, lengths.mean()


@pytest.mark.parametrize("separable", [False, True])
def test_primary_capsules_start_on_the_squash_knee(separable):
    """Fed BatchNorm + ReLU-like features (E[x²] = 0.5), the primary capsules start at |u| ≈ 0.3–0.6, where
    squash still has slope; He's rule (gain 2 on every convolution) starts them saturated (|u| > 0.85)."""
    r = numpy.random.default_rng(3)
    x = numpy.maximum(r.standard_normal((2, 48, 23, 27)), 0).astype(numpy.float32)      # (N, C, H, W)
    layer = layers.PrimaryCapsules(48, 8, 8, kernel=9, stride=2, separable=separable, rng=r)
    lengths = numpy.linalg.norm(layer.forward(x), axis=-1)
    assert 0.25 < lengths.mean() < 0.65, lengths.mean()
    for _, conv in layer.conv.layers:                           # the same draws at He's scale
        conv.params["w"] *= (2 / (1 if conv.shape[1] == 1 else 1 / 8)) ** 0.5
    assert numpy.linalg.norm(layer.forward(x), axis=-1).mean() > 0.85


def test_flatten_then_linear_gradient(rng):
    """The paper's CNN ends in Flatten → Linear: the reshape's backward must undo its forward exactly."""
    seq = layers.Sequential([("flatten", layers.Flatten()),
                             ("fc", layers.Linear(3 * 5 * 7, 4, rng=numpy.random.default_rng(2), dtype="float64"))])
    x = f64(rng, 2, 3, 5, 7)
    report = check_sequential(seq, x)
    assert report.ok, str(report)
    assert seq.output_shape(x.shape) == (2, 4)
