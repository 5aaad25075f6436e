"""The gradient checker must pass a correct backward pass and catch a wrong one, saying where."""

import numpy
import pytest

from lcn_np.gradcheck import check_gradients, numerical_gradient, relative_error


def square_forward(x, w):
    """y = w * x²  (element-wise)."""
    return w * x * x, {"x": x, "w": w}


def square_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    return dout * 2 * w * x, dout * x * x


def wrong_square_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    dx = dout * 2 * w * x
    dx[1, 2] += 0.5  # one element wrong
    return dx, dout * x * x


def sum_loss_forward(x):
    return (x ** 3).sum() / x.shape[0], {"x": x}


def sum_loss_backward(cache):
    x = cache["x"]
    return 3 * x ** 2 / x.shape[0]


@pytest.fixture
def args(rng):
    return [rng.standard_normal((3, 5)), rng.standard_normal((3, 5))]


def test_correct_backward_passes(args):
    report = check_gradients(square_forward, square_backward, args, names=["x", "w"])
    assert report.ok, str(report)
    assert report.max_rel_error < 1e-7
    assert "PASSED" in str(report)


def test_wrong_element_is_found_and_located(args):
    report = check_gradients(square_forward, wrong_square_backward, args, names=["x", "w"])
    assert not report.ok
    x_report = report.inputs[0]
    assert x_report.where == (1, 2)
    assert x_report.max_rel_error > 1e-2
    text = str(report)
    assert "FAILED" in text and "x: FAIL" in text and "(1, 2)" in text and "w: ok" in text


def test_wrong_shape_is_reported_not_crashed(args):
    def bad_backward(dout, cache):
        dx, dw = square_backward(dout, cache)
        return dx[:, :4], dw
    report = check_gradients(square_forward, bad_backward, args, names=["x", "w"])
    assert not report.ok and "shape" in report.inputs[0].problem


def test_wrong_dtype_is_reported(args):
    def bad_backward(dout, cache):
        dx, dw = square_backward(dout, cache)
        return dx.astype(numpy.float32), dw
    report = check_gradients(square_forward, bad_backward, args, names=["x", "w"])
    assert not report.ok and "dtype" in report.inputs[0].problem


def test_scalar_loss_backward_takes_only_cache(rng):
    x = rng.standard_normal((4, 3))
    assert check_gradients(sum_loss_forward, sum_loss_backward, [x]).ok


def test_numerical_gradient_restores_input_and_matches_calculus(rng):
    x = rng.standard_normal((2, 7))
    x0 = x.copy()
    g = numerical_gradient(lambda: numpy.sin(x), x, dout=numpy.ones_like(x))
    assert numpy.array_equal(x, x0)
    numpy.testing.assert_allclose(g, numpy.cos(x), rtol=1e-8, atol=1e-10)


def test_non_contiguous_input_is_refused(rng):
    x = rng.standard_normal((4, 6))[:, ::2]
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: x, x, dout=numpy.ones_like(x))


def test_relative_error_floor_ignores_noise_on_zero_gradients():
    err, floor = relative_error(numpy.array([1.0, 1e-12]), numpy.array([1.0, 0.0]))
    assert floor == pytest.approx(1e-3) and err.max() < 1e-8
