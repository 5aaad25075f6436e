"""Element-wise activations: ReLU and ReLU6 (MobileNet's clipped ReLU).

    relu(x)  = max(x, 0)                 d/dx = 1[x > 0]
    relu6(x) = min(max(x, 0), 6)         d/dx = 1[0 < x < 6]

Speed: each pass runs on chunks of the batch on the thread pool of :mod:`lcn_np.parallel`, writing
into arrays allocated once; the results are bit for bit those of ``x * (x > 0)`` and ``dout * mask``.
"""

from ..backend import array_module
from ..parallel import map_chunks


def relu_forward(x):
    """x: any shape → out of the same shape."""
    xp = array_module(x)
    out, mask = xp.empty_like(x), xp.empty(x.shape, dtype=bool)

    def part(x, out, mask):
        xp.greater(x, 0, out=mask)
        xp.multiply(x, mask, out=out)
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
