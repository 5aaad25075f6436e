"""Not an answer: a wrapper around lcn_np's plain BatchNorm backward."""
from lcn_np import ops


def batchnorm2d_backward(dout, cache):
    return ops.normalization.batchnorm2d_reference_backward(dout, cache)
