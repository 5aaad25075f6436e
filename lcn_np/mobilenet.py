"""A MobileNet-v1 front end (Howard et al. 2017) in our layers, so ImageNet weights load exactly.

Topology (α = 0.25 widths in brackets), as Keras Applications builds it:

    conv1      3×3 conv, stride 2 (3 → 8)      + BN + ReLU6
    block k    depthwise 3×3 (stride 2 for k = 2, 4, 6, 12) + BN + ReLU6
               pointwise 1×1                   + BN + ReLU6
               widths: 1: 8→16, 2: 16→32, 3: 32→32, 4: 32→64, 5: 64→64, 6: 64→128, 7–11: 128→128,
                       12: 128→256, 13: 256→256

Convolutions have no bias; every BatchNorm has ε = 1e-3; the stride-2 layers pad one zero row and
column at the bottom/right only (``padding=(0, 1, 0, 1)``), stride-1 layers pad 1 all round. Inputs are
expected in [−1, 1], which is the range of our spectrogram images.

How it relates to the paper's Table 1 (DSC 3→64, DSC 64→64, pool, DSC 64→128, DSC 128→128, pool):
both are stacks of depthwise-separable blocks with BN, but MobileNet starts with one standard
convolution, halves the resolution with stride-2 depthwise convolutions instead of max-pooling, uses
ReLU6, and at α = 0.25 is four times narrower. We take the first K blocks, K chosen so that the map
handed to the primary capsules is 16×16 as with Table 1 at S = 64: K = 3 (32 channels, S/4) for
S ≤ 64, K = 5 (64 channels, S/8) for S = 128, K = 11 (128 channels, S/16) for S = 256.
"""

import numpy

from .layers import BatchNorm2d, Conv2d, DepthwiseConv2d, PointwiseConv2d, ReLU6, Sequential

# (pointwise output channels at α = 1, depthwise stride) for blocks 1 … 13
BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1)]
STAGE_ENDS = (1, 3, 5, 11, 13)          # the last block before each change of resolution


def output_stride(n_blocks):
    return 2 * 2 ** sum(1 for _, s in BLOCKS[:n_blocks] if s == 2)


def default_blocks(image_size, target_grid=16):
    """The largest stage end K whose output map is still at least ``target_grid`` wide."""
    fitting = [k for k in STAGE_ENDS if image_size // output_stride(k) >= target_grid]
    return fitting[-1] if fitting else 1


def mobilenet_frontend(image_size, n_blocks=None, alpha=0.25, rng=None, dtype="float32"):
    """Returns (Sequential named like the Keras layers, output channels, output map size).

    ``image_size``: an int S (S×S input) or (rows, columns); the map size comes back in the same form.
    The default depth is chosen on the rows (the frequency axis)."""
    from .model import image_shape, map_size
    rng = rng or numpy.random.default_rng(0)
    K = default_blocks(image_shape(image_size)[0]) if n_blocks is None else int(n_blocks)
    if not 1 <= K <= len(BLOCKS):
        raise ValueError(f"n_blocks must be between 1 and {len(BLOCKS)}, got {n_blocks}")
    width = lambda c: int(c * alpha)                         # noqa: E731
    c = width(32)
    layers = [("conv1", Conv2d(3, c, 3, 2, (0, 1, 0, 1), bias=False, rng=rng, dtype=dtype)),
              ("conv1_bn", BatchNorm2d(c, eps=1e-3, dtype=dtype)), ("conv1_relu", ReLU6())]
    for k, (cout, stride) in enumerate(BLOCKS[:K], start=1):
        cout = width(cout)
        pad = (0, 1, 0, 1) if stride == 2 else 1
        layers += [(f"conv_dw_{k}", DepthwiseConv2d(c, 3, stride, pad, rng=rng, dtype=dtype)),
                   (f"conv_dw_{k}_bn", BatchNorm2d(c, eps=1e-3, dtype=dtype)), (f"conv_dw_{k}_relu", ReLU6()),
                   (f"conv_pw_{k}", PointwiseConv2d(c, cout, rng=rng, dtype=dtype)),
                   (f"conv_pw_{k}_bn", BatchNorm2d(cout, eps=1e-3, dtype=dtype)), (f"conv_pw_{k}_relu", ReLU6())]
        c = cout
    frontend = Sequential(layers)
    return frontend, c, map_size(frontend, image_size)
