"""The one backend switch: NumPy by default, CuPy on request, a clear error when CuPy is missing."""

import numpy
import pytest

from lcn_np import backend


def test_array_module_of_numpy_input_is_numpy():
    assert backend.array_module(numpy.zeros(3)) is numpy
    assert backend.array_module(None, numpy.zeros(2)) is numpy


def test_default_device_is_cpu(monkeypatch):
    monkeypatch.setattr(backend, "_device", None)
    monkeypatch.delenv("LCN_DEVICE", raising=False)
    assert backend.get_device() == "cpu"
    assert backend.device_module() is numpy


def test_env_variable_chooses_device(monkeypatch):
    monkeypatch.setattr(backend, "_device", None)
    monkeypatch.setenv("LCN_DEVICE", "cpu")
    assert backend.get_device() == "cpu"


def test_unknown_device_is_refused():
    with pytest.raises(ValueError, match="device must be one of"):
        backend.set_device("tpu")


def test_gpu_without_cupy_says_how_to_install(monkeypatch):
    if backend.gpu_available():
        pytest.skip("a GPU is present, so the missing-CuPy message cannot be shown")
    monkeypatch.setattr(backend, "_device", None)
    with pytest.raises(backend.DeviceError, match="(pip install|no CUDA device)"):
        backend.set_device("gpu")
    assert backend._device is None  # a failed switch leaves the device unchanged


def test_to_device_and_back_keeps_values_and_dtype():
    a = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
    b = backend.to_numpy(backend.to_device(a))
    assert b.dtype == numpy.float32 and numpy.array_equal(a, b)
