"""The paper's networks: the LCN, its ablation variants and the CNN baseline.

    build(variant, n_classes=6, image_size=64, seed=0, pretrained=None, **opts) -> Model

| variant     | front end                                  | primary capsules | routing | loss   |
|-------------|--------------------------------------------|------------------|---------|--------|
| `cnn`       | the paper's CNN: conv 3×3 with 64, 128, 256, 512 channels (+ BN + ReLU), each followed by a 2×2 max-pool | — (dropout, fully connected) | — | cross-entropy |
| `cnn-gap`   | the `cn` front end                          | — (global average pool, dropout, linear) | — | cross-entropy |
| `cn`        | 4 × (conv 3×3 + BN + ReLU), 2 max-pools    | conv 9×9 / 2     | dot     | margin |
| `cn-dsc`    | Table 1: 4 DSC blocks, 2 max-pools         | DSC 9×9 / 2      | dot     | margin |
| `cn-dsc-dr` | Table 1                                    | DSC 9×9 / 2      | cosine  | margin |
| `cn-dsc-pm` | MobileNet-v1 DSC blocks, ImageNet weights  | DSC              | dot     | margin |
| `lcn`       | MobileNet-v1 DSC blocks, ImageNet weights  | DSC              | cosine  | margin |

Table 1 of the paper: DSC 3→64, DSC 64→64, max-pool, DSC 64→128, DSC 128→128, max-pool, with
BatchNorm + ReLU after each convolution. Convolutions carry no bias (BatchNorm's β replaces it), which
gives exactly the paper's weight counts 219, 4 672, 8 768 and 17 536.

Choices the paper leaves open, and ours:
- Primary capsules: 32 types × 8-D from a 9×9 stride-2 convolution, as in Sabour's CapsNet. The paper's
  1 152 = 32·6·6 capsules imply a 20×20 map entering that layer ((20 − 9)//2 + 1 = 6), i.e. an 80×80
  image through this front end; ours follows from the image size: the front end divides it by 4, so
  64 → 16×16 → 4×4 → 512 capsules, 80 → 1 152, 128 → 32×32 → 12×12 → 4 608. When the map is smaller
  than 9, the kernel shrinks to the map size. ``build(..., primary_kernel=K, primary_stride=S)`` changes the
  9 and the 2, and with them how many capsules enter routing (e.g. 3×3 / 2 on the `lcn` recipe's 8×16 map:
  3·7·32 = 672 instead of 160).
- Emotion capsules: n_classes × 16-D, 3 routing iterations (the paper's best). ``build(...,
  shared_capsules=True)`` (``--shared-capsules``) gives each primary-capsule type one W for all its
  positions instead of one per position (:class:`lcn_np.layers.CapsuleLayer`), so the head accepts
  windows of any length.
- The paper's CNN baseline (`cnn`): four 3×3 convolutions with 64, 128, 256 and 512 channels, each
  followed by 2×2 max-pooling, then a fully connected layer; we add BatchNorm + ReLU after each
  convolution (as everywhere here) and dropout 0.5 before the fully connected layer, and train it with
  softmax cross-entropy. `cnn-gap`, the `cn` front end with global average pooling and a linear layer, is
  kept as an ablation: the same features as the capsule variants, without capsules.
"""

import numpy

from . import ops
from .layers import (CapsuleLayer, CapsuleLength, Dropout, Flatten, GlobalAvgPool, Linear, MaxPool2d,
                     PrimaryCapsules, Sequential, conv_block, dsc_block)

VARIANTS = ("cnn", "cn", "cn-dsc", "cn-dsc-dr", "cn-dsc-pm", "lcn", "cnn-gap")
CLASSIFIERS = ("cnn", "cnn-gap")          # no capsules: logits and softmax cross-entropy
PRETRAINED_VARIANTS = ("cn-dsc-pm", "lcn")
PRIMARY_DEFAULTS = {"primary_kernel": 9, "primary_stride": 2}   # Sabour's 9×9 / 2; build(..., primary_kernel=…)


LOSSES = {"margin": (ops.margin_loss_forward, ops.margin_loss_backward),
          "cross_entropy": (ops.softmax_cross_entropy_forward, ops.softmax_cross_entropy_backward)}


def image_shape(image_size):
    """(rows, columns) from an int S (an S×S image) or a pair, e.g. (64, 128): 64 mel bands × 128 frames."""
    if isinstance(image_size, (int, numpy.integer)):
        return int(image_size), int(image_size)
    rows, cols = image_size
    return int(rows), int(cols)


def map_size(frontend, image_size):
    """The front end's output map for an input of ``image_size``: an int for a square input, else (h, w)."""
    h, w = frontend.output_shape((1, 3) + image_shape(image_size))[2:]
    return h if isinstance(image_size, (int, numpy.integer)) else (h, w)


def table1_frontend(separable, image_size=64, channels=(64, 128), rng=None, dtype="float32"):
    """The paper's Table 1 front end (or its standard-convolution twin for `cn`/`cnn-gap`).

    Returns (Sequential, output channels, output map size) — the same kind of answer as
    :func:`lcn_np.mobilenet.mobilenet_frontend`. The two max-pools divide each side by 4.
    """
    block = dsc_block if separable else conv_block
    c1, c2 = channels
    frontend = Sequential([
        ("block1", block(3, c1, rng=rng, dtype=dtype)), ("block2", block(c1, c1, rng=rng, dtype=dtype)),
        ("pool1", MaxPool2d(2, 2)),
        ("block3", block(c1, c2, rng=rng, dtype=dtype)), ("block4", block(c2, c2, rng=rng, dtype=dtype)),
        ("pool2", MaxPool2d(2, 2)),
    ])
    return frontend, c2, map_size(frontend, image_size)


def paper_cnn_frontend(image_size=64, widths=(64, 128, 256, 512), rng=None, dtype="float32"):
    """The paper's CNN: conv 3×3 (+ BN + ReLU) then 2×2 max-pool, for each width. Returns the same kind of
    answer as :func:`table1_frontend`; each pool halves the sides, so 64 → 4."""
    layers, cin = [], 3
    for k, width in enumerate(widths, start=1):
        layers += [(f"block{k}", conv_block(cin, width, rng=rng, dtype=dtype)), (f"pool{k}", MaxPool2d(2, 2))]
        cin = width
    frontend = Sequential(layers)
    return frontend, cin, map_size(frontend, image_size)


def primary_capsule_grid(grid, kernel=9, stride=2):
    """(kernel, capsule grid) of the primary capsules on a map of ``grid`` (an int side, or (h, w)): a 9×9
    stride-2 convolution, its kernel shrunk to the map when the map is smaller than 9. The capsule grid is
    an int for an int map, else (h, w). The one place this choice is made."""
    h, w = image_shape(grid)
    kernel = min(kernel, h, w)
    out = ops.output_size(h, w, kernel, kernel, stride)
    return kernel, (out[0] if isinstance(grid, (int, numpy.integer)) else out)


class Model:
    """A front end, then either capsules (primary → emotion capsules → lengths) or a CNN classifier.

    forward(x: (N, 3, S, S)) → (N, n_classes): capsule lengths (or logits for `cnn`, `cnn-gap`).
    """

    def __init__(self, variant, frontend, head, config):
        self.variant, self.config = variant, config
        self.loss = "cross_entropy" if variant in CLASSIFIERS else "margin"
        self.loss_forward, self.loss_backward = LOSSES[self.loss]
        self.body = Sequential([("frontend", frontend)] + head)

    # -- the two passes ---------------------------------------------------------------------------
    def forward(self, x):
        return self.body.forward(x)

    def backward(self, dout, input_grad=True):
        """Gradients of every parameter from dout = ∂loss/∂scores; returns ∂loss/∂x, or None with
        ``input_grad=False`` — training has no use for the image's gradient, and the first convolution
        then skips computing it (like PyTorch for an input that does not require grad)."""
        first = next(self.body.named())[1]
        first.needs_input_grad = input_grad
        try:
            return self.body.backward(dout)
        finally:
            first.needs_input_grad = True

    def features(self, x):
        """The front end's output (N, C, H', W')."""
        return self.layer("frontend").forward(x)

    def layer(self, name):
        return dict(self.body.layers)[name]

    training = True

    def train(self):
        self.training = True
        self.body.train()

    def eval(self):
        self.training = False
        self.body.eval()

    # -- parameters and state ---------------------------------------------------------------------
    def parameters(self):
        """name → (array, gradient) for every trained parameter, e.g. 'frontend.block1.dw.w'."""
        return {f"{name}.{k}": (layer.params[k], layer.grads[k])
                for name, layer in self.body.named() for k in layer.params}

    def n_parameters(self):
        return self.body.n_parameters()

    def state_dict(self):
        """name → NumPy array of every parameter and buffer (BatchNorm running statistics)."""
        return self.body.state_dict()

    def load_state_dict(self, state, source=None):
        """Copy arrays into the model in place; missing/extra keys, a shape mismatch or NaN is an error."""
        self.body.load_state_dict(state, source or f"the state of this {self.variant} model")

    def last_coupling(self):
        """Coupling coefficients (N, I, J) of the last routing iteration of the last forward pass."""
        digit = dict(self.body.layers).get("digit")
        if digit is None or digit.cache is None:
            raise ValueError("no routing has run yet (or this variant has no capsules)")
        return digit.coupling()

    # -- a table for people -----------------------------------------------------------------------
    def summary(self):
        """Per layer: output shape (one example), parameters and MFLOPs (2 × multiply-adds).

        Shapes come from each layer's ``output_shape``: nothing runs, so nothing (BatchNorm's running
        statistics, the last caches) changes."""
        height, width = image_shape(self.config["image_size"])
        shape = (1, 3, height, width)
        rows, total_p, total_f = [], 0, 0.0
        for name, layer in self.body.layers:
            units = list(layer.named(name + ".")) if isinstance(layer, Sequential) else [(name, layer)]
            for unit_name, unit in units:
                out = unit.output_shape(shape)
                p = unit.n_parameters()
                f = unit.flops(shape) if hasattr(unit, "flops") else 0
                rows.append((unit_name, repr(unit), tuple(out[1:]), p, f / 1e6))
                total_p, total_f, shape = total_p + p, total_f + f, out
        lines = [f"{self.variant}: input (3, {height}, {width})",
                 f"{'layer':30s} {'what':52s} {'output':>18s} {'params':>10s} {'MFLOPs':>9s}"]
        lines += [f"{n:30s} {w[:52]:52s} {str(s):>18s} {p:10,d} {f:9.2f}" for n, w, s, p, f in rows]
        lines.append(f"{'total':30s} {'':52s} {'':>18s} {total_p:10,d} {total_f / 1e6:9.2f}")
        return "\n".join(lines)


def build(variant, n_classes=6, image_size=64, seed=0, pretrained=None, dtype="float32", channels=(64, 128),
          n_types=32, caps_dim=8, out_dim=16, iterations=3, init_scale=None, dropout=0.5, **opts):
    """Build one of :data:`VARIANTS`; every random number comes from ``seed``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if min(image_shape(image_size)) < 8:
        raise ValueError(f"image_size must be at least 8, got {image_size}")
    if not isinstance(image_size, (int, numpy.integer)):
        image_size = list(image_shape(image_size))             # JSON-friendly in checkpoints
    rng = numpy.random.default_rng(seed)
    config = dict(variant=variant, n_classes=n_classes, image_size=image_size, seed=seed, dtype=dtype,
                  channels=list(channels), n_types=n_types, caps_dim=caps_dim, out_dim=out_dim,
                  iterations=iterations, init_scale=init_scale, dropout=dropout,
                  pretrained=str(pretrained) if pretrained else None, **opts)
    if variant in PRETRAINED_VARIANTS or opts.get("frontend") == "mobilenet":
        from .mobilenet import mobilenet_frontend
        frontend, c_out, grid = mobilenet_frontend(image_size, rng=rng, dtype=dtype,
                                                   n_blocks=opts.get("n_blocks"))
        if pretrained:
            from .weights import load_pretrained_frontend
            load_pretrained_frontend(frontend, pretrained)
    elif pretrained:
        raise ValueError(f"--pretrained needs a variant with the MobileNet front end "
                         f"({', '.join(PRETRAINED_VARIANTS)}), not {variant!r}")
    elif variant == "cnn":
        frontend, c_out, grid = paper_cnn_frontend(image_size, rng=rng, dtype=dtype)
        head = [("flatten", Flatten()), ("dropout", Dropout(dropout, rng=numpy.random.default_rng(seed + 1))),
                ("classifier", Linear(c_out * int(numpy.prod(image_shape(grid))), n_classes, rng=rng, dtype=dtype))]
        return Model(variant, frontend, head, config)
    else:
        frontend, c_out, grid = table1_frontend(variant not in ("cn", "cnn-gap"), image_size, channels, rng, dtype)
    if variant == "cnn-gap":
        head = [("pool", GlobalAvgPool()), ("dropout", Dropout(dropout, rng=numpy.random.default_rng(seed + 1))),
                ("classifier", Linear(c_out, n_classes, rng=rng, dtype=dtype))]
        return Model(variant, frontend, head, config)
    head_opts = {**PRIMARY_DEFAULTS, **opts}
    kernel, n_grid = primary_capsule_grid(grid, head_opts["primary_kernel"], head_opts["primary_stride"])
    n_primary = n_types * int(numpy.prod(image_shape(n_grid)))
    agreement = "cosine" if variant in ("cn-dsc-dr", "lcn") else "dot"
    head = [("primary", PrimaryCapsules(c_out, n_types, caps_dim, kernel, head_opts["primary_stride"],
                                        separable=variant != "cn", rng=rng, dtype=dtype)),
            ("digit", CapsuleLayer(n_primary, caps_dim, n_classes, out_dim, iterations, agreement, init_scale,
                                   rng=rng, dtype=dtype, shared_types=n_types if opts.get("shared_capsules") else None)),
            ("length", CapsuleLength())]
    config["n_primary_capsules"] = n_primary
    return Model(variant, frontend, head, config)
