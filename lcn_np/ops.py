"""Every forward/backward pair of lcn_np in one import.

The contract, the same for every op:

    out, cache = name_forward(x, w, b=None, **settings)
    dx, dw, db = name_backward(dout, cache)     # one gradient per array argument, in order; None for b=None
    dlogits    = loss_backward(cache)           # losses return a 0-d scalar and need no dout

Layouts are PyTorch's (N, C, H, W) and (Cout, Cin, kh, kw), so weights and results compare directly.
Every op keeps its input's dtype and takes its array library (NumPy or CuPy) from its input.
"""

from .signal import power_spectrogram_forward, power_spectrogram_backward
from .conv import (
    conv2d_forward, conv2d_backward,
    depthwise_conv2d_forward, depthwise_conv2d_backward,
    pointwise_conv2d_forward, pointwise_conv2d_backward,
)
from .pooling import maxpool2d_forward, maxpool2d_backward, global_avgpool_forward, global_avgpool_backward
from .activations import relu_forward, relu_backward, relu6_forward, relu6_backward
from .normalization import batchnorm2d_forward, batchnorm2d_backward
from .linear import linear_forward, linear_backward
from .capsules import (
    squash_forward, squash_backward,
    capsule_predict_forward, capsule_predict_backward,
    capsule_length_forward, capsule_length_backward,
)
from .routing import routing_forward, routing_backward
from .losses import (
    margin_loss_forward, margin_loss_backward,
    softmax_cross_entropy_forward, softmax_cross_entropy_backward,
)

__all__ = [name for name in dir() if name.endswith(("_forward", "_backward"))]
