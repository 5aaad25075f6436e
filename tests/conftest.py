"""Shared fixtures: ``xp`` runs a test on NumPy and, where a GPU is present, again on CuPy."""

import pathlib

import numpy
import pytest

from lcn_np import backend

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(params=["numpy", "cupy"])
def xp(request):
    """The array library under test; the CuPy run is skipped with a reason when no GPU is present."""
    if request.param == "cupy":
        if not backend.gpu_available():
            pytest.skip("CuPy run skipped: CuPy or a CUDA GPU is not available on this machine")
        import cupy
        return cupy
    return numpy


@pytest.fixture
def rng():
    return numpy.random.default_rng(1234)


def shared_path(*parts):
    """Path into ../shared, or skip the test with a reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is not present (../shared is only beside the checkout in CI and on dev machines)")
    return p
