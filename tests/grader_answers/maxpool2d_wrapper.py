"""Not an answer: a wrapper around lcn_np's plain max-pool backward."""
from lcn_np.ops import pooling


def maxpool2d_backward(dout, cache):
    return pooling.maxpool2d_reference_backward(dout, cache)
