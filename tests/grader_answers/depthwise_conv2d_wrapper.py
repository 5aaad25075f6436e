"""Not an answer: a wrapper around the plain backward that chapter 5 shows, lcn_np's own."""
from lcn_np import ops


def depthwise_conv2d_backward(dout, cache):
    return ops.conv.depthwise_conv2d_reference_backward(dout, cache)
