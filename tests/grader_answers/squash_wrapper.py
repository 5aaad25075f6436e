"""Not an answer: a two-line wrapper around lcn_np's own squash_backward."""
from lcn_np import ops


def squash_backward(dout, cache):
    return ops.squash_backward(dout, cache)
