"""Not an answer: a wrapper around lcn_np's plain BatchNorm backward."""
import lcn_np.ops.normalization as bn


def batchnorm2d_backward(dout, cache):
    return bn.batchnorm2d_reference_backward(dout, cache)
