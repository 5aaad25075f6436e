"""Not an answer: runs lcn_np's standard convolution (a 1×1 conv2d is a pointwise convolution) for the gradients."""
from lcn_np import ops


def pointwise_conv2d_backward(dout, cache):
    b = dout.sum(axis=(0, 2, 3)) * 0 if cache["has_bias"] else None
    _, conv_cache = ops.conv2d_forward(cache["x"], cache["w"], b)
    return ops.conv2d_backward(dout, conv_cache)
