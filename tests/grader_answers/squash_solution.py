"""Reference solution: squash_backward, written from the exercise's docstring."""


def squash_backward(dout, cache):
    s, n, r, g = cache["s"], cache["n"], cache["r"], cache["g"]
    # g = n / ((1 + n)·r) with r = sqrt(n + ε), dr/dn = 1/(2r): the quotient rule gives
    dg = (r - n * (1 + n) / (2 * r)) / ((1 + n) * r) ** 2
    # v = g·s, n = |s|²: ds = g·dout + 2·g'·(s·dout)·s
    return g * dout + 2 * dg * (s * dout).sum(axis=-1, keepdims=True) * s
