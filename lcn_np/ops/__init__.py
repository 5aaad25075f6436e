"""The lesson: every hand-written forward/backward pair of lcn_np, reached through this one import::

    from lcn_np import ops
    out, cache = ops.conv2d_forward(x, w, b, stride=1, padding=1)

The contract — the same for every pair, so that the gradient checker, the grader, the layers and the
benchmarks need no special cases:

    out, cache = name_forward(x, w, b=None, ..., **settings)
    grads      = name_backward(dout, cache)

- ``dout`` has the shape of ``out``; ``cache`` holds exactly what the backward needs and nothing is
  read from it elsewhere except through a named accessor (``routing_coupling(cache)``).
- The backward returns one gradient per *differentiable* array argument of the forward, in the order of
  the forward's arguments: a bare array when there is one (``dx = relu_backward(dout, cache)``), a tuple
  when there are several (``dx, dw, db = conv2d_backward(dout, cache)``), with ``None`` in the place of an
  absent bias. Running statistics and labels are not differentiated and get no place.
- Losses end the chain: their ``out`` is a 0-d scalar, so their backward takes only the cache,
  ``dscores = margin_loss_backward(cache)`` — the one exception.
- Every op keeps its input's dtype and takes its array library (NumPy or CuPy) from its input.
  Layouts are PyTorch's, (N, C, H, W) and (Cout, Cin, kh, kw), so weights and results compare directly.

Modules, in the order data flows through them: ``spectrogram`` (|STFT|²), ``conv`` (standard, depthwise,
pointwise), ``pooling``, ``activations``, ``normalization``, ``linear``, ``capsules`` (squash, predictions,
lengths), ``routing``, ``losses``; ``checks`` holds the argument checks they share.

Fast forms and plain forms. Where speed changed how an op is written (the stride-1 convolution as
shifted matrix products, the depthwise backward as a correlation with the flipped kernel, max-pooling
tap by tap, BatchNorm's chunked statistics), the plain form of the maths stays beside it in the same
module as ``name_reference`` / ``name_reference_backward`` (e.g. ``ops.conv.conv2d_reference``; not
exported here, as they are not new ops), and tests/test_reference_forms.py checks that both agree to
float32 round-off. Memory-bound loops run on chunks of the batch on the thread pool of
:mod:`lcn_np.parallel` (bit-identical results whatever the thread count).
"""

from .spectrogram import (
    power_spectrogram_forward, power_spectrogram_backward,
    frame, overlap_add, padded_window,
)
from .conv import (
    conv2d_forward, conv2d_backward,
    depthwise_conv2d_forward, depthwise_conv2d_backward,
    pointwise_conv2d_forward, pointwise_conv2d_backward,
    normalize_padding, output_size, pad, tap, windows,
    conv2d_shifted, depthwise_flat_taps, depthwise_taps,
)
from .pooling import maxpool2d_forward, maxpool2d_backward, global_avgpool_forward, global_avgpool_backward
from .activations import relu_forward, relu_backward, relu6_forward, relu6_backward
from .normalization import batchnorm2d_forward, batchnorm2d_backward
from .linear import linear_forward, linear_backward
from .capsules import (
    EPS,
    squash_forward, squash_backward,
    capsule_predict_forward, capsule_predict_backward,
    capsule_length_forward, capsule_length_backward,
)
from .routing import AGREEMENTS, routing_forward, routing_backward, routing_coupling, softmax
from .losses import (
    margin_loss_forward, margin_loss_backward,
    softmax_cross_entropy_forward, softmax_cross_entropy_backward,
    one_hot,
)
from .checks import expect_float, expect_ndim, expect_shape

PAIRS = sorted(name[:-len("_forward")] for name in dir() if name.endswith("_forward"))
LOSSES = ("margin_loss", "softmax_cross_entropy")

__all__ = sorted(name for name in dir() if not name.startswith("_")
                 and name not in ("spectrogram", "conv", "pooling", "activations", "normalization", "linear",
                                  "capsules", "routing", "losses", "checks"))
