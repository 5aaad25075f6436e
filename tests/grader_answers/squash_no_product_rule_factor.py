"""Wrong: dn/ds = 2s, but the 2 is forgotten."""


def squash_backward(dout, cache):
    s, n, r, g = cache["s"], cache["n"], cache["r"], cache["g"]
    dg = (r - n * (1 + n) / (2 * r)) / ((1 + n) * r) ** 2
    return g * dout + dg * (s * dout).sum(axis=-1, keepdims=True) * s
