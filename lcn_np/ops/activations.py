"""Element-wise activations: ReLU and ReLU6 (MobileNet's clipped ReLU).

    relu(x)  = max(x, 0)                 d/dx = 1[x > 0]
    relu6(x) = min(max(x, 0), 6)         d/dx = 1[0 < x < 6]

Speed: each pass runs on chunks of the batch on the thread pool of :mod:`lcn_np.parallel`, writing
into arrays allocated once. The forward is ``max(x, 0)`` (one SIMD pass; ``x * (x > 0)`` multiplies a float
by a bool, which NumPy casts through a buffer: 0.64 → 0.41 ms with the mask, on a (2, 64, 64, 64) chunk,
one thread; too little to show in a training step),
the mask is read off the output (``out > 0`` is ``x > 0``), and the backward is ``dout * mask``.
"""

from ..backend import array_module
from ..parallel import map_chunks


def relu_forward(x):
    """x: any shape → out of the same shape."""
    xp = array_module(x)
    out, mask = xp.empty_like(x), xp.empty(x.shape, dtype=bool)

    def part(x, out, mask):
        xp.maximum(x, 0, out=out)
        xp.greater(out, 0, out=mask)
    map_chunks(part, x, out, mask)
    return out, {"mask": mask}


def relu_backward(dout, cache):
    return _masked(dout, cache["mask"])


def relu6_forward(x):
    """x: any shape → min(max(x, 0), 6)."""
    xp = array_module(x)
    out, mask = xp.empty_like(x), xp.empty(x.shape, dtype=bool)

    def part(x, out, mask):
        xp.clip(x, 0, 6, out=out)
        xp.logical_and(x > 0, x < 6, out=mask)
    map_chunks(part, x, out, mask)
    return out, {"mask": mask}


def relu6_backward(dout, cache):
    return _masked(dout, cache["mask"])


def _masked(dout, mask):
    """dout · mask, the backward of both."""
    xp = array_module(dout)
    dx = xp.empty_like(dout)
    map_chunks(lambda d, m, o: xp.multiply(d, m, out=o), dout, mask, dx)
    return dx
