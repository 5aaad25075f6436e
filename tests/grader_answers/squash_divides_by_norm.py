"""Wrong at s = 0: derives squash through |s| and the unit vector s/|s| (and drops ε): NaN at s = 0."""
import numpy as np


def squash_backward(dout, cache):
    s, n = cache["s"], cache["n"]
    length = np.sqrt(n)
    unit = s / length
    f = n / (1 + n)                          # |v| as a function of t = |s|: t²/(1 + t²)
    df = 2 * length / (1 + n) ** 2           # d|v|/dt
    along = (unit * dout).sum(axis=-1, keepdims=True)
    return f / length * (dout - along * unit) + df * along * unit
