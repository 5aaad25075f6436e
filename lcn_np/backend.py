"""NumPy or CuPy: the one place where the array library is chosen.

Ops never name ``numpy`` directly. They ask their input which library it belongs to::

    xp = array_module(x)      # numpy for a NumPy array, cupy for a CuPy array

so one body of code runs on the CPU and on the GPU. What the *model* allocates (weights, batches)
comes from :func:`device_module`, the library of the current device, set by the environment variable
``LCN_DEVICE=cpu|gpu`` or by :func:`set_device`.

A third device, ``standin``, is for the tests: :mod:`lcn_np.standin` keeps NumPy arrays behind CuPy's
rules (no implicit conversion to NumPy, no NumPy array in device arithmetic), so that the GPU path is
tested on machines without a GPU. It is imported only when asked for.
"""

import os

import numpy

_DEVICES = ("cpu", "gpu", "standin")
_device = None  # resolved lazily so that importing lcn_np never imports cupy


class DeviceError(RuntimeError):
    """The GPU was asked for but CuPy or a CUDA device is missing."""


def _import_cupy():
    try:
        import cupy
    except ImportError as exc:
        raise DeviceError(
            "device 'gpu' needs CuPy, which is not installed. Install it with "
            "`pip install 'lcn-np[gpu]'` (or the cupy-cudaXXx wheel that matches your CUDA), "
            "or use the CPU: LCN_DEVICE=cpu / --device cpu."
        ) from exc
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise DeviceError(f"device 'gpu': CuPy is installed but no CUDA device can be used ({exc}). "
                          "Use --device cpu.") from exc
    if n == 0:
        raise DeviceError("device 'gpu': CuPy is installed but no CUDA device was found. Use --device cpu.")
    return cupy


def set_device(name):
    """Choose where new arrays live: ``'cpu'`` (NumPy), ``'gpu'`` (CuPy) or ``'standin'`` (the tests' CuPy)."""
    global _device
    if name not in _DEVICES:
        raise ValueError(f"device must be one of {_DEVICES}, got {name!r}")
    if name == "gpu":
        _import_cupy()
    _device = name


def get_device():
    """The current device name, from :func:`set_device` or else ``$LCN_DEVICE`` (default ``'cpu'``)."""
    if _device is None:
        set_device(os.environ.get("LCN_DEVICE", "cpu").strip().lower() or "cpu")
    return _device


def device_module():
    """The array library of the current device: ``numpy``, ``cupy`` or :mod:`lcn_np.standin`."""
    device = get_device()
    if device == "gpu":
        return _import_cupy()
    if device == "standin":
        from . import standin
        return standin
    return numpy


def gpu_available():
    """True when CuPy imports and sees at least one CUDA device (never raises)."""
    try:
        _import_cupy()
        return True
    except DeviceError:
        return False


def _owner(a):
    """'cupy', 'standin' or None (NumPy, a scalar, anything else), from the type's module name alone."""
    module = type(a).__module__
    if module.startswith("cupy"):
        return "cupy"
    return "standin" if module == "lcn_np.standin" else None


def array_module(*arrays):
    """The library (numpy, cupy or the stand-in) that owns these arrays; numpy for anything else."""
    for a in arrays:
        owner = _owner(a)
        if owner == "cupy":
            import cupy
            return cupy
        if owner == "standin":
            from . import standin
            return standin
    return numpy


def to_device(a, dtype=None):
    """Copy ``a`` onto the current device (no copy when it is already there and of that dtype)."""
    return device_module().asarray(a, dtype=dtype)


def to_numpy(a):
    """Return ``a`` as a NumPy array (copies from the GPU when needed)."""
    if _owner(a):
        return a.get()
    return numpy.asarray(a)


def synchronize(xp):
    """Wait until the device of array module ``xp`` has finished its queued work (a no-op for NumPy).

    CuPy launches kernels asynchronously: a timer read right after a call measures the launch, not the
    work, so every GPU timing is taken between two synchronisations."""
    if xp.__name__ == "cupy":
        xp.cuda.Device().synchronize()
