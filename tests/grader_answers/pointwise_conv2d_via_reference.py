"""Not an answer: the pointwise backward through lcn_np's im2col convolution backward."""
from lcn_np import ops


def pointwise_conv2d_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    state = {"xpad": x, "xpad_shape": x.shape, "w": w, "stride": 1, "padding": ops.normalize_padding(0),
             "has_bias": cache["has_bias"]}
    return ops.conv.conv2d_reference_backward(dout, state)
