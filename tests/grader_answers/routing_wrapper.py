"""Not an answer: calls lcn_np's own routing_backward under another name."""
from lcn_np.ops import routing_backward as library_version


def routing_backward(dout, cache):
    grads = library_version(dout, cache)
    return grads
