"""The paper's networks: the LCN, its ablation variants and the CNN baseline.

    build(variant, n_classes=6, image_size=64, seed=0, pretrained=None, **opts) -> Model

| variant     | front end                                  | primary capsules | routing | loss   |
|-------------|--------------------------------------------|------------------|---------|--------|
| `cnn`       | 4 × (conv 3×3 + BN + ReLU), 2 max-pools    | — (avg-pool, dropout, linear) | — | cross-entropy |
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
  than 9, the kernel shrinks to the map size.
- Emotion capsules: n_classes × 16-D, 3 routing iterations (the paper's best).
- The CNN baseline shares the `cn` front end and ends in global average pooling, dropout 0.5 and a
  linear layer, trained with softmax cross-entropy.
"""

import numpy

from .backend import to_numpy, xp
from .layers import (CapsuleLayer, CapsuleLength, Dropout, GlobalAvgPool, Linear, MaxPool2d,
                     PrimaryCapsules, Sequential, conv_block, dsc_block)

VARIANTS = ("cnn", "cn", "cn-dsc", "cn-dsc-dr", "cn-dsc-pm", "lcn")
PRETRAINED_VARIANTS = ("cn-dsc-pm", "lcn")


def table1_frontend(separable, channels=(64, 128), rng=None, dtype="float32"):
    """The paper's Table 1 front end (or its standard-convolution twin for `cn`/`cnn`); divides H, W by 4."""
    block = dsc_block if separable else conv_block
    c1, c2 = channels
    return Sequential([
        ("block1", block(3, c1, rng=rng, dtype=dtype)), ("block2", block(c1, c1, rng=rng, dtype=dtype)),
        ("pool1", MaxPool2d(2, 2)),
        ("block3", block(c1, c2, rng=rng, dtype=dtype)), ("block4", block(c2, c2, rng=rng, dtype=dtype)),
        ("pool2", MaxPool2d(2, 2)),
    ]), c2, image_size_after(4)


def image_size_after(factor):
    return lambda size: size // factor


class Model:
    """A front end, then either capsules (primary → emotion capsules → lengths) or a CNN classifier.

    forward(x: (N, 3, S, S)) → (N, n_classes): capsule lengths (or logits for `cnn`).
    """

    def __init__(self, variant, frontend, head, config):
        self.variant, self.config = variant, config
        self.loss = "cross_entropy" if variant == "cnn" else "margin"
        self.body = Sequential([("frontend", frontend)] + head)

    # -- the two passes ---------------------------------------------------------------------------
    def forward(self, x):
        return self.body.forward(x)

    def backward(self, dout):
        return self.body.backward(dout)

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
        state = {}
        for name, layer in self.body.named():
            for k, v in list(layer.params.items()) + list(layer.buffers.items()):
                state[f"{name}.{k}"] = to_numpy(v).copy()
        return state

    def load_state_dict(self, state):
        """Copy arrays into the model in place; missing/extra keys or a shape mismatch is an error."""
        slots = {f"{name}.{k}": (store, k) for name, layer in self.body.named()
                 for store in (layer.params, layer.buffers) for k in store}
        missing, extra = sorted(set(slots) - set(state)), sorted(set(state) - set(slots))
        if missing or extra:
            raise ValueError(f"state does not fit this {self.variant} model: missing {missing[:5]}"
                             f"{'…' if len(missing) > 5 else ''}, unexpected {extra[:5]}{'…' if len(extra) > 5 else ''}")
        for key, (store, k) in slots.items():
            value = numpy.asarray(state[key])
            if value.shape != tuple(store[k].shape):
                raise ValueError(f"{key}: expected shape {tuple(store[k].shape)}, found {value.shape}")
            if not numpy.isfinite(value).all():
                raise ValueError(f"{key}: contains NaN or inf; the checkpoint is damaged or its run diverged")
            store[k][...] = xp().asarray(value, dtype=store[k].dtype)

    def last_coupling(self):
        """Coupling coefficients (N, I, J) of the last routing iteration of the last forward pass."""
        digit = dict(self.body.layers).get("digit")
        if digit is None or digit.cache is None:
            raise ValueError("no routing has run yet (or this variant has no capsules)")
        return digit.cache["c"]

    # -- a table for people -----------------------------------------------------------------------
    def summary(self):
        """Per layer: output shape (one example), parameters and MFLOPs (2 × multiply-adds)."""
        size = self.config["image_size"]
        x = xp().zeros((2, 3, size, size), dtype=self.config["dtype"])
        was_training = self.training
        self.eval()                       # BatchNorm must not update its running statistics here
        rows, total_p, total_f = [], 0, 0.0
        for name, layer in self.body.layers:
            leaves = list(layer.named(name + ".")) if isinstance(layer, Sequential) else [(name, layer)]
            if isinstance(getattr(layer, "conv", None), Sequential):
                leaves = [(name, layer)]
            for leaf_name, leaf in leaves:
                x = leaf.forward(x)
                p = leaf.n_parameters() if not hasattr(leaf, "conv") else layer.conv.n_parameters()
                f = self._flops(leaf, x)
                rows.append((leaf_name, repr(leaf), tuple(x.shape[1:]), p, f / 1e6))
                total_p, total_f = total_p + p, total_f + f
        if was_training:
            self.train()
        lines = [f"{self.variant}: input (3, {size}, {size})",
                 f"{'layer':30s} {'what':52s} {'output':>18s} {'params':>10s} {'MFLOPs':>9s}"]
        lines += [f"{n:30s} {w[:52]:52s} {str(s):>18s} {p:10,d} {f:9.2f}" for n, w, s, p, f in rows]
        lines.append(f"{'total':30s} {'':52s} {'':>18s} {total_p:10,d} {total_f / 1e6:9.2f}")
        return "\n".join(lines)

    @staticmethod
    def _flops(leaf, out):
        if isinstance(leaf, PrimaryCapsules):
            return sum(conv.flops(_conv_out_shape(conv)) for _, conv in leaf.conv.named())
        return leaf.flops(out.shape) if hasattr(leaf, "flops") else 0


def _conv_out_shape(conv):
    """Output (H, W) of a convolution layer from its last cache."""
    if "xpad" in conv.cache:
        xpad = conv.cache["xpad"]
        k, s = conv.shape[2], conv.stride
        return ((xpad.shape[2] - k) // s + 1, (xpad.shape[3] - k) // s + 1)
    return conv.cache["x"].shape[2:]


def build(variant, n_classes=6, image_size=64, seed=0, pretrained=None, dtype="float32", channels=(64, 128),
          n_types=32, caps_dim=8, out_dim=16, iterations=3, init_scale=None, dropout=0.5, **opts):
    """Build one of :data:`VARIANTS`; every random number comes from ``seed``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8, got {image_size}")
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
    else:
        if pretrained:
            raise ValueError(f"--pretrained needs a variant with the MobileNet front end "
                             f"({', '.join(PRETRAINED_VARIANTS)}), not {variant!r}")
        frontend, c_out, shrink = table1_frontend(variant != "cn" and variant != "cnn", channels, rng, dtype)
        grid = shrink(image_size)
    if variant == "cnn":
        head = [("pool", GlobalAvgPool()), ("dropout", Dropout(dropout, rng=numpy.random.default_rng(seed + 1))),
                ("classifier", Linear(c_out, n_classes, rng=rng, dtype=dtype))]
        return Model(variant, frontend, head, config)
    kernel = min(9, grid)
    n_grid = (grid - kernel) // 2 + 1
    n_primary = n_types * n_grid * n_grid
    agreement = "cosine" if variant in ("cn-dsc-dr", "lcn") else "dot"
    head = [("primary", PrimaryCapsules(c_out, n_types, caps_dim, kernel, 2, separable=variant != "cn",
                                        rng=rng, dtype=dtype)),
            ("digit", CapsuleLayer(n_primary, caps_dim, n_classes, out_dim, iterations, agreement, init_scale,
                                   rng=rng, dtype=dtype)),
            ("length", CapsuleLength())]
    config["n_primary_capsules"] = n_primary
    return Model(variant, frontend, head, config)
