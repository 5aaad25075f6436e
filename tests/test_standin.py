"""The strict CuPy stand-in refuses what CuPy refuses and allows what CuPy allows; the backend knows it."""

import numpy
import pytest

from lcn_np import backend, standin


@pytest.fixture
def x():
    return standin.asarray(numpy.arange(6.0).reshape(2, 3))


REFUSED = {
    "numpy.asarray(x)": lambda x: numpy.asarray(x),
    "numpy_array[...] = x": lambda x: numpy.zeros((2, 3)).__setitem__(Ellipsis, x),
    "x + numpy.zeros(1)": lambda x: x + numpy.zeros(1),
    "numpy.zeros(1) + x": lambda x: numpy.zeros(1) + x,
    "x * numpy.asarray(2.0) (0-d)": lambda x: x * numpy.asarray(2.0),
    "x += numpy.ones(3)": lambda x: x.__iadd__(numpy.ones(3)),
    "x == numpy.ones(3)": lambda x: x == numpy.ones(3),
    "xp.maximum(x, numpy_array)": lambda x: standin.maximum(x, numpy.ones(3)),
    "xp.stack([x, numpy_array])": lambda x: standin.stack([x, numpy.ones((2, 3))]),
    "xp.multiply(x, 2, out=numpy_array)": lambda x: standin.multiply(x, 2, out=numpy.empty((2, 3))),
    "x.clip(numpy_array, None)": lambda x: x.clip(numpy.zeros(3), None),
    "numpy.exp(x)": lambda x: numpy.exp(x),
    "numpy.sum(x)": lambda x: numpy.sum(x),
    "numpy.concatenate([x, x])": lambda x: numpy.concatenate([x, x]),
    "numpy.mean([x.sum(), x.sum()])": lambda x: numpy.mean([x.sum(), x.sum()]),
    "numpy.testing.assert_allclose(x, x)": lambda x: numpy.testing.assert_allclose(x, x),
}


@pytest.mark.parametrize("what", REFUSED)
def test_refuses_what_cupy_refuses(x, what):
    with pytest.raises(TypeError):
        REFUSED[what](x)


def test_allows_what_cupy_allows(x):
    assert float(x.sum()) == 15.0 and int(x[1, 2]) == 5 and bool(x[0, 1]) and x.max().item() == 5.0
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]] and x.shape == (2, 3) and x.dtype == numpy.float64
    y = numpy.float32(2) * x + numpy.float64(1) - 3 * x ** 2 / 4      # NumPy and Python scalars
    assert bool((numpy.float64(-1) < x).all()) and bool((2 ** x > 0).all())
    assert isinstance(y, standin.StandinArray) and isinstance(x.sum(), standin.StandinArray)   # 0-d, as on CuPy
    x[0] = numpy.array([7.0, 8.0, 9.0])                               # an explicit host → device copy
    assert x.get()[0].tolist() == [7, 8, 9] and type(x.get()) is numpy.ndarray
    assert f"{x[0, 0]:.1f}" == "7.0" and len(x) == 2 and [r.shape for r in x] == [(3,), (3,)]


def test_views_write_through_like_device_arrays(x):
    flat = x.reshape(-1)
    flat[4] = 40.0
    windows = standin.lib.stride_tricks.as_strided(x, shape=(2, 2), strides=x.strides)
    windows[...] += 1
    standin.multiply(x[1], 0, out=x[1])
    assert x.get().tolist() == [[1, 2, 2], [0, 0, 0]]


def test_the_module_mirrors_numpy_with_device_arrays_in_and_out(x):
    assert standin.float32 is numpy.float32 and standin.newaxis is None and standin.pi == numpy.pi
    r = standin.fft.rfft(x, axis=-1)
    assert isinstance(r, standin.StandinArray)
    numpy.testing.assert_allclose(backend.to_numpy(standin.fft.irfft(r, n=3, axis=-1)), x.get(), atol=1e-12)
    assert isinstance(standin.einsum("ij->j", x), standin.StandinArray)


def test_the_backend_recognises_it(x, monkeypatch):
    assert backend.array_module(x) is standin and backend.array_module(None, numpy.ones(1), x) is standin
    monkeypatch.setattr(backend, "_device", None)
    monkeypatch.setenv("LCN_DEVICE", "standin")
    assert backend.get_device() == "standin" and backend.device_module() is standin
    a = backend.to_device(numpy.ones((2, 2)), dtype="float32")
    assert isinstance(a, standin.StandinArray) and a.dtype == numpy.float32
    b = backend.to_numpy(a)
    assert type(b) is numpy.ndarray and b.dtype == numpy.float32
    backend.synchronize(standin)                                    # nothing to wait for
