"""Shared fixtures: ``xp`` runs a test on NumPy, on the strict CuPy stand-in (:mod:`lcn_np.standin`) and,
where a GPU is present, on CuPy; ``device`` also makes that library the current device (weights, batches)."""

import pathlib

import numpy
import pytest

from lcn_np import backend

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


DEVICES = {"numpy": "cpu", "standin": "standin", "cupy": "gpu"}     # array library → backend device


@pytest.fixture(params=list(DEVICES))
def xp(request):
    """The array library under test; the CuPy run is skipped with a reason when no GPU is present."""
    if request.param == "cupy":
        if not backend.gpu_available():
            pytest.skip("CuPy run skipped: CuPy or a CUDA GPU is not available on this machine")
        import cupy
        return cupy
    if request.param == "standin":
        from lcn_np import standin
        return standin
    return numpy


@pytest.fixture(autouse=True)
def cpu_unless_asked(monkeypatch):
    """Every test starts on the CPU whatever $LCN_DEVICE says (tests feed NumPy batches to the models they
    build); the ``device`` fixture moves a test onto each device in turn."""
    monkeypatch.setattr(backend, "_device", "cpu")


@pytest.fixture
def device(xp, monkeypatch):
    """``xp``, made the current device for the test (new weights and batches live there); restored after."""
    monkeypatch.setattr(backend, "_device", None)
    backend.set_device(DEVICES[xp.__name__.split(".")[-1]])
    return xp


@pytest.fixture
def rng():
    return numpy.random.default_rng(1234)


def shared_path(*parts):
    """Path into ../shared, or skip the test with a reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is not present (../shared is only beside the checkout in CI and on dev machines)")
    return p
