"""Wrong: treats squash as element-wise (v = g·s with g held constant) — the term through |s| is missing."""


def squash_backward(dout, cache):
    return cache["g"] * dout
