"""Element-wise activations: ReLU and ReLU6 (MobileNet's clipped ReLU).

    relu(x)  = max(x, 0)                 d/dx = 1[x > 0]
    relu6(x) = min(max(x, 0), 6)         d/dx = 1[0 < x < 6]
"""


def relu_forward(x):
    """x: any shape → out of the same shape."""
    return x * (x > 0), {"mask": x > 0}


def relu_backward(dout, cache):
    return dout * cache["mask"]


def relu6_forward(x):
    """x: any shape → min(max(x, 0), 6)."""
    mask = (x > 0) & (x < 6)
    return x.clip(0, 6), {"mask": mask}


def relu6_backward(dout, cache):
    return dout * cache["mask"]
