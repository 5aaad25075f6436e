"""A strict stand-in for CuPy, for the tests: NumPy underneath, CuPy's rules on top.

The bugs that bite when NumPy code first meets CuPy can be found on a CPU, because CuPy refuses to
mix its arrays with NumPy's. This module plays the GPU with the same refusals, so that the test suite
runs every array-module test a second time under CuPy's rules on a machine without a GPU::

    backend.set_device("standin")              # or LCN_DEVICE=standin
    x = backend.to_device(numpy_array)         # a StandinArray: explicit transfer, allowed
    xp = backend.array_module(x)               # this module, used exactly like cupy
    backend.to_numpy(xp.exp(x))                # explicit transfer back, allowed

Refused with a ``TypeError``, as CuPy refuses them (or as they break on CuPy):
- implicit conversion to NumPy — ``numpy.asarray(x)``, ``numpy_array[...] = x`` (``__array__``);
- a NumPy array mixed into the arithmetic or the functions of this module — ``x + numpy.zeros(1)``,
  ``xp.maximum(x, numpy_array)`` (only ``xp.asarray``/``xp.array``, the explicit transfer, take one);
- a NumPy function applied to a device array — ``numpy.exp(x)`` (NumPy's own message: "operand
  'StandinArray' does not support ufuncs"), ``numpy.concatenate([x, y])``. CuPy
  itself dispatches some of these back to CuPy; lcn_np's rule is stricter (an op says ``xp.``, never
  ``numpy.``), and every one of them breaks on CuPy as soon as a NumPy array is among the arguments.

Allowed, as on CuPy: Python and NumPy scalars in arithmetic, ``float(x)``, ``int(x)``, ``bool(x)``,
``x.item()``, ``x.tolist()``, ``x.get()``, shapes, dtypes and strides.

What it cannot find: a NumPy function that CuPy lacks or a keyword it does not take (the API-surface
test, ``tests/cupy_surface``, checks those against CuPy's own names), arrays on the wrong one of
several GPUs, and anything about speed, memory or numerical differences of the GPU kernels.
"""

import numpy

_TRANSFERS = ("asarray", "array", "asanyarray")     # the explicit host → device copies


class StandinArray:
    """A NumPy array that behaves, towards NumPy, like a CuPy array."""

    __slots__ = ("_a",)
    __array_ufunc__ = None          # numpy.exp(x) is refused; numpy_scalar * x and numpy_array + x fall back to
    #                                 x.__rmul__ / x.__radd__ below, which allow the scalar and refuse the array
    __hash__ = None

    def __init__(self, a):
        self._a = a

    # -- what CuPy refuses ------------------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (stand-in for CuPy): "
                        "use backend.to_numpy(x) to copy a device array to the host")

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} was applied to a device array (stand-in for CuPy): "
                        f"use xp = array_module(x) and xp.{func.__name__}")

    # -- what CuPy allows -------------------------------------------------------------------------
    def get(self):
        """A NumPy copy (CuPy's ``ndarray.get``)."""
        return self._a.copy()

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __complex__(self):
        return complex(self._a)

    def __bool__(self):
        return bool(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(a) for a in self._a)

    def __repr__(self):
        return f"standin.{repr(self._a)}"

    def __format__(self, spec):
        return format(self._a, spec)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, "indexing")])

    def __setitem__(self, key, value):
        # CuPy copies a NumPy value into a slice (an explicit host → device copy), so this is allowed
        self._a[_unwrap(key, "indexing")] = value._a if isinstance(value, StandinArray) else value

    def __getattr__(self, name):
        if name.startswith("__"):            # never hand out __array_interface__ and friends
            raise AttributeError(name)
        attr = getattr(self._a, name)
        return _wrap_function(attr, f"ndarray.{name}") if callable(attr) else _wrap(attr)


def _unwrap(obj, where):
    """The NumPy array inside a StandinArray; a plain NumPy array here is a host array mixed into device
    code, which CuPy refuses. Lists, tuples and dicts are searched."""
    if isinstance(obj, StandinArray):
        return obj._a
    if isinstance(obj, numpy.ndarray):
        raise TypeError(f"a NumPy array was mixed into device code ({where}; stand-in for CuPy, which "
                        "refuses it): move it with backend.to_device(a) or xp.asarray(a) first")
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o, where) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v, where) for k, v in obj.items()}
    return obj


def _wrap(obj):
    """NumPy results become device results; a reduction's NumPy scalar becomes a 0-d array, as on CuPy."""
    if isinstance(obj, numpy.ndarray):
        return StandinArray(obj)
    if isinstance(obj, numpy.generic):
        return StandinArray(numpy.asarray(obj))
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    return obj


def _wrap_function(fn, name):
    def call(*args, **kwargs):
        return _wrap(fn(*_unwrap(args, name), **_unwrap(kwargs, name)))
    call.__name__ = call.__qualname__ = name
    return call


def _binary(name):
    def op(self, other):
        return _wrap(getattr(self._a, name)(_unwrap(other, f"the operator {name}")))
    return op


def _inplace(name):
    def op(self, other):
        getattr(self._a, name)(_unwrap(other, f"the operator {name}"))
        return self
    return op


def _unary(name):
    return lambda self: _wrap(getattr(self._a, name)())


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    setattr(StandinArray, f"__{_name}__", _binary(f"__{_name}__"))
    setattr(StandinArray, f"__r{_name}__", _binary(f"__r{_name}__"))
    setattr(StandinArray, f"__i{_name}__", _inplace(f"__i{_name}__"))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(StandinArray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(StandinArray, f"__{_name}__", _unary(f"__{_name}__"))


# -- the module, used as ``xp``: every NumPy name, with device arrays in and out -----------------------
class _Namespace:
    """A NumPy (sub)module seen from the device: functions unwrap and wrap, constants and types pass."""

    def __init__(self, module, prefix):
        self._module, self._prefix = module, prefix

    def __getattr__(self, name):
        return _attribute(self._module, name, f"{self._prefix}.{name}")


def _attribute(module, name, qualified):
    attr = getattr(module, name)
    if isinstance(attr, type(numpy)):
        return _Namespace(attr, qualified)
    if isinstance(attr, type) or not callable(attr):       # numpy.float32, numpy.newaxis, numpy.pi
        return attr
    return _wrap_function(attr, qualified)


def _transfer(fn):
    def transfer(a, *args, **kwargs):
        return StandinArray(fn(a._a if isinstance(a, StandinArray) else a, *args, **kwargs))
    transfer.__name__ = fn.__name__
    return transfer


asarray, array, asanyarray = (_transfer(getattr(numpy, n)) for n in _TRANSFERS)
ndarray = StandinArray


def __getattr__(name):                      # the module's own attributes: xp.zeros, xp.fft, xp.lib, …
    if name.startswith("__"):
        raise AttributeError(name)
    return _attribute(numpy, name, f"standin.{name}")
