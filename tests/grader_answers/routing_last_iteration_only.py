"""Wrong: backpropagates only through the last iteration (its coupling c treated as a constant)."""
from lcn_np.ops import squash_backward


def routing_backward(dout, cache):
    last = cache["steps"][-1]
    ds = squash_backward(dout, last["sq"])
    return (last["c"][..., None] * ds[:, :, None, :]).transpose(0, 2, 1, 3)
