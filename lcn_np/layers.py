"""Layers: objects that own parameters and their gradients and call the op pairs of :mod:`lcn_np.ops`.

Every layer has ``params`` and ``grads`` (dicts with the same keys), ``buffers`` (state that is saved
but not trained, such as BatchNorm's running statistics), a ``training`` flag, and

    out = layer.forward(x)                 # keeps the op's cache
    dx  = layer.backward(dout)             # fills layer.grads, returns the gradient for the layer below
    layer.output_shape((N, C, H, W))       # the shape forward would return, without running it
    layer.flops((N, C, H, W))              # 2 × multiply-adds per example, for layers that compute

A :class:`Sequential` runs its layers forward and walks them in reverse for the backward pass.
There is no autograd engine: every gradient is one of the backward functions you can read.

Initialisation (written out, seeded by a ``numpy.random.Generator``):
- convolutions followed by ReLU: He / Kaiming normal, std = sqrt(2 / fan_in);
- the primary-capsule convolution, followed by squash: std = sqrt(1 / (fan_in · dim)) — see
  :class:`PrimaryCapsules` for why He's rule starts the capsules saturated;
- linear layers: Glorot uniform, limit = sqrt(6 / (fan_in + fan_out));
- BatchNorm: γ = 1, β = 0;
- capsule transformation matrices w (I, J, Dout, Din): normal with std = init_scale·J/sqrt(I·Dout) — see
  :class:`CapsuleLayer` for why a too-small scale trains to chance.
"""

import numpy

from . import ops
from .backend import array_module, device_module, to_numpy


def _param(value, dtype):
    """A new parameter on the current device (NumPy or CuPy)."""
    return device_module().asarray(value, dtype=dtype)


class Layer:
    """Base class: no parameters, identity in train and eval mode."""

    def __init__(self):
        self.params, self.grads, self.buffers = {}, {}, {}
        self.training = True
        self.cache = None
        self.needs_input_grad = True        # False: backward may skip dx and return None (a network's first layer)

    def train(self):
        self.training = True

    def eval(self):
        self.training = False

    def zero_grads(self):
        for k, v in self.params.items():
            self.grads[k] = array_module(v).zeros_like(v)

    def output_shape(self, in_shape):
        return tuple(in_shape)

    # -- layers inside layers, and everything they hold ----------------------------------------------
    def children(self):
        """(name, layer) pairs of the layers this one is made of; a leaf has none."""
        return []

    def named(self, prefix=""):
        """(qualified name, leaf layer) pairs, depth first, in the order the forward pass runs them."""
        for name, layer in self.children():
            if layer.children():
                yield from layer.named(f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}", layer

    def n_parameters(self):
        if self.children():
            return sum(leaf.n_parameters() for _, leaf in self.named())
        return int(sum(v.size for v in self.params.values()))

    def state_dict(self):
        """name → NumPy copy of every parameter and buffer, e.g. 'block1.dw.w', 'block1.dw_bn.running_mean'."""
        return {f"{name}.{k}": to_numpy(v).copy() for name, leaf in self.named()
                for k, v in list(leaf.params.items()) + list(leaf.buffers.items())}

    def load_state_dict(self, state, source="state"):
        """Copy arrays into the parameters and buffers in place — the one place this is done.

        Missing or unexpected names, a shape mismatch, or NaN/inf is a ``ValueError`` naming ``source``.
        """
        slots = {f"{name}.{k}": (store, k) for name, leaf in self.named()
                 for store in (leaf.params, leaf.buffers) for k in store}
        missing, extra = sorted(set(slots) - set(state)), sorted(set(state) - set(slots))
        if missing or extra:
            raise ValueError(f"{source} does not fit this model: missing {missing[:5]}"
                             f"{'…' if len(missing) > 5 else ''}, unexpected {extra[:5]}{'…' if len(extra) > 5 else ''}")
        for key, (store, k) in slots.items():
            value = to_numpy(state[key])            # a state may come from the device too
            if value.shape != tuple(store[k].shape):
                raise ValueError(f"{source}: {key}: expected shape {tuple(store[k].shape)}, found {value.shape}")
            if not numpy.isfinite(value).all():
                raise ValueError(f"{source}: {key} contains NaN or inf; the file is damaged or its run diverged")
            store[k][...] = array_module(store[k]).asarray(value, dtype=store[k].dtype)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Conv2d(Layer):
    """Standard convolution, w (Cout, Cin, k, k), normal init with std = sqrt(gain / fan_in) (He: gain 2)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0, bias=True, rng=None, dtype="float32", gain=2.0):
        super().__init__()
        rng = rng or numpy.random.default_rng(0)
        self.stride, self.padding = stride, padding
        self.shape = (cout, cin, kernel, kernel)
        self.params["w"] = _param(rng.normal(0, (gain / (cin * kernel * kernel)) ** 0.5, self.shape), dtype)
        if bias:
            self.params["b"] = _param(numpy.zeros(cout), dtype)
        self.zero_grads()

    def forward(self, x):
        out, self.cache = ops.conv2d_forward(x, self.params["w"], self.params.get("b"), self.stride, self.padding)
        return out

    def backward(self, dout):
        self.cache["need_dx"] = self.needs_input_grad
        dx, self.grads["w"], db = ops.conv2d_backward(dout, self.cache)
        if db is not None:
            self.grads["b"] = db
        return dx

    def output_shape(self, in_shape):
        N, _, H, W = in_shape
        return (N, self.shape[0]) + ops.output_size(H, W, self.shape[2], self.shape[3], self.stride, self.padding)

    def flops(self, in_shape):
        """Multiply-adds × 2 per example."""
        cout, cin, kh, kw = self.shape
        Ho, Wo = self.output_shape(in_shape)[2:]
        return 2 * cin * kh * kw * cout * Ho * Wo

    def __repr__(self):
        cout, cin, k, _ = self.shape
        return f"Conv2d({cin}→{cout}, {k}×{k}, stride {self.stride})"


class DepthwiseConv2d(Layer):
    """One k×k filter per channel, w (C, 1, k, k), std = sqrt(gain / k²) (He: gain 2; fan_in = k²)."""

    def __init__(self, channels, kernel=3, stride=1, padding=1, bias=False, rng=None, dtype="float32", gain=2.0):
        super().__init__()
        rng = rng or numpy.random.default_rng(0)
        self.stride, self.padding = stride, padding
        self.shape = (channels, 1, kernel, kernel)
        self.params["w"] = _param(rng.normal(0, (gain / (kernel * kernel)) ** 0.5, self.shape), dtype)
        if bias:
            self.params["b"] = _param(numpy.zeros(channels), dtype)
        self.zero_grads()

    def forward(self, x):
        out, self.cache = ops.depthwise_conv2d_forward(x, self.params["w"], self.params.get("b"),
                                                       self.stride, self.padding)
        return out

    def backward(self, dout):
        self.cache["need_dx"] = self.needs_input_grad
        dx, self.grads["w"], db = ops.depthwise_conv2d_backward(dout, self.cache)
        if db is not None:
            self.grads["b"] = db
        return dx

    def output_shape(self, in_shape):
        N, C, H, W = in_shape
        return (N, C) + ops.output_size(H, W, self.shape[2], self.shape[3], self.stride, self.padding)

    def flops(self, in_shape):
        c, _, kh, kw = self.shape
        Ho, Wo = self.output_shape(in_shape)[2:]
        return 2 * c * kh * kw * Ho * Wo

    def __repr__(self):
        return f"DepthwiseConv2d({self.shape[0]}, {self.shape[2]}×{self.shape[3]}, stride {self.stride})"


class PointwiseConv2d(Layer):
    """1×1 convolution, w (Cout, Cin, 1, 1), std = sqrt(gain / Cin) (He: gain 2)."""

    def __init__(self, cin, cout, bias=False, rng=None, dtype="float32", gain=2.0):
        super().__init__()
        rng = rng or numpy.random.default_rng(0)
        self.shape = (cout, cin, 1, 1)
        self.params["w"] = _param(rng.normal(0, (gain / cin) ** 0.5, self.shape), dtype)
        if bias:
            self.params["b"] = _param(numpy.zeros(cout), dtype)
        self.zero_grads()

    def forward(self, x):
        out, self.cache = ops.pointwise_conv2d_forward(x, self.params["w"], self.params.get("b"))
        return out

    def backward(self, dout):
        dx, self.grads["w"], db = ops.pointwise_conv2d_backward(dout, self.cache)
        if db is not None:
            self.grads["b"] = db
        return dx

    def output_shape(self, in_shape):
        N, _, H, W = in_shape
        return (N, self.shape[0], H, W)

    def flops(self, in_shape):
        return 2 * self.shape[0] * self.shape[1] * in_shape[-1] * in_shape[-2]

    def __repr__(self):
        return f"PointwiseConv2d({self.shape[1]}→{self.shape[0]})"


class BatchNorm2d(Layer):
    def __init__(self, channels, eps=1e-5, momentum=0.1, dtype="float32"):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.params["gamma"] = _param(numpy.ones(channels), dtype)
        self.params["beta"] = _param(numpy.zeros(channels), dtype)
        self.buffers["running_mean"] = _param(numpy.zeros(channels), dtype)
        self.buffers["running_var"] = _param(numpy.ones(channels), dtype)
        self.zero_grads()

    def forward(self, x):
        out, self.cache = ops.batchnorm2d_forward(x, self.params["gamma"], self.params["beta"],
                                                  self.buffers["running_mean"], self.buffers["running_var"],
                                                  train=self.training, momentum=self.momentum, eps=self.eps)
        return out

    def backward(self, dout):
        dx, self.grads["gamma"], self.grads["beta"] = ops.batchnorm2d_backward(dout, self.cache)
        return dx

    def __repr__(self):
        return f"BatchNorm2d({self.params['gamma'].shape[0]})"


class ReLU(Layer):
    def forward(self, x):
        out, self.cache = ops.relu_forward(x)
        return out

    def backward(self, dout):
        return ops.relu_backward(dout, self.cache)


class ReLU6(Layer):
    def forward(self, x):
        out, self.cache = ops.relu6_forward(x)
        return out

    def backward(self, dout):
        return ops.relu6_backward(dout, self.cache)


class MaxPool2d(Layer):
    def __init__(self, size=2, stride=2):
        super().__init__()
        self.size, self.stride = size, stride

    def forward(self, x):
        out, self.cache = ops.maxpool2d_forward(x, self.size, self.stride)
        return out

    def backward(self, dout):
        return ops.maxpool2d_backward(dout, self.cache)

    def output_shape(self, in_shape):
        N, C, H, W = in_shape
        return (N, C) + ops.output_size(H, W, self.size, self.size, self.stride)

    def __repr__(self):
        return f"MaxPool2d({self.size}×{self.size}, stride {self.stride})"


class GlobalAvgPool(Layer):
    def forward(self, x):
        out, self.cache = ops.global_avgpool_forward(x)
        return out

    def backward(self, dout):
        return ops.global_avgpool_backward(dout, self.cache)

    def output_shape(self, in_shape):
        return tuple(in_shape[:2])


class Flatten(Layer):
    """(N, C, H, W) → (N, C·H·W), and the gradient back: a reshape both ways, no arithmetic."""

    def forward(self, x):
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.cache)

    def output_shape(self, in_shape):
        return (in_shape[0], int(numpy.prod(in_shape[1:])))


class Dropout(Layer):
    """Inverted dropout: in training each value is kept with probability 1 − p and scaled by 1/(1 − p)."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p, self.rng = p, rng or numpy.random.default_rng(0)

    def forward(self, x):
        if not self.training or self.p == 0:
            self.cache = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.cache = array_module(x).asarray(keep / (1 - self.p), dtype=x.dtype)
        return x * self.cache

    def backward(self, dout):
        return dout if self.cache is None else dout * self.cache


class Linear(Layer):
    """y = x wᵀ + b, Glorot-uniform init."""

    def __init__(self, din, dout, rng=None, dtype="float32"):
        super().__init__()
        rng = rng or numpy.random.default_rng(0)
        limit = (6 / (din + dout)) ** 0.5
        self.params["w"] = _param(rng.uniform(-limit, limit, (dout, din)), dtype)
        self.params["b"] = _param(numpy.zeros(dout), dtype)
        self.zero_grads()

    def forward(self, x):
        out, self.cache = ops.linear_forward(x, self.params["w"], self.params["b"])
        return out

    def backward(self, dout):
        dx, self.grads["w"], self.grads["b"] = ops.linear_backward(dout, self.cache)
        return dx

    def output_shape(self, in_shape):
        return (in_shape[0], self.params["w"].shape[0])

    def flops(self, in_shape):
        return 2 * self.params["w"].size


class Sequential(Layer):
    """Named layers run in order; parameters are named ``<layer>.<param>``."""

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)          # [(name, layer), ...]

    def forward(self, x):
        for _, layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for _, layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def output_shape(self, in_shape):
        for _, layer in self.layers:
            in_shape = layer.output_shape(in_shape)
        return in_shape

    def children(self):
        return self.layers

    def train(self):
        for _, layer in self.layers:
            layer.train()

    def eval(self):
        for _, layer in self.layers:
            layer.eval()


def dsc_block(cin, cout, stride=1, rng=None, dtype="float32"):
    """The paper's DSC block: depthwise 3×3 → BN → ReLU → pointwise 1×1 → BN → ReLU (no conv biases:
    BatchNorm's β does their job). Weights: cin·9 + cin·cout."""
    return Sequential([
        ("dw", DepthwiseConv2d(cin, 3, stride, 1, rng=rng, dtype=dtype)), ("dw_bn", BatchNorm2d(cin, dtype=dtype)),
        ("dw_relu", ReLU()),
        ("pw", PointwiseConv2d(cin, cout, rng=rng, dtype=dtype)), ("pw_bn", BatchNorm2d(cout, dtype=dtype)),
        ("pw_relu", ReLU()),
    ])


def conv_block(cin, cout, rng=None, dtype="float32"):
    """Standard 3×3 convolution → BN → ReLU (the `cn` and `cnn` front ends). Weights: cin·cout·9."""
    return Sequential([
        ("conv", Conv2d(cin, cout, 3, 1, 1, bias=False, rng=rng, dtype=dtype)),
        ("bn", BatchNorm2d(cout, dtype=dtype)), ("relu", ReLU()),
    ])


class PrimaryCapsules(Layer):
    """Convolution to n_types·dim channels, regrouped into capsules and squashed.

    x: (N, Cin, H, W) → conv (N, types·dim, Ho, Wo) → u (N, types·Ho·Wo, dim) → squash.
    Capsule index i = (type, row, col), so a capsule's ``dim`` components are the ``dim`` channels of
    one type at one position (Sabour et al.). ``separable=True`` uses depthwise k×k + pointwise
    (the DSC variants) instead of a standard k×k convolution.

    Init. No ReLU follows this convolution, squash does, so He's rule (std = sqrt(2 / fan_in), which keeps
    E[y²] ≈ 2·E[x²] for the ReLU to halve) is the wrong one: each of a capsule's ``dim`` components gets
    variance ≈ 1 from BatchNorm + ReLU features, |s| ≈ sqrt(dim) ≈ 2.8 and squash starts saturated —
    measured on CASIA windows with the full-width cn-dsc-dr: |u| = 0.97, where squash's slope is nearly
    zero, and the run collapsed to chance at the peak learning rate. Here the weights are drawn so that the
    *whole capsule*, not each component, carries the input's second moment::

        depthwise (separable only):  std = sqrt(1 / k²)                 (linear: gain 1, not 2)
        last convolution:            std = sqrt(1 / (fan_in · dim))     so |s|² ≈ E[x²] ≈ 0.5 and |u| ≈ 0.3–0.5

    which puts the capsules on squash's knee (mean |u| = 0.54 in the same measurement, close to PyTorch's
    default init; that run now learns through the peak learning rate — walkthrough chapter 11). Features
    with a larger second moment start higher: the lcn's ImageNet front end gives |u| ≈ 0.84.
    """

    def __init__(self, cin, n_types=32, dim=8, kernel=9, stride=2, separable=False, rng=None, dtype="float32"):
        super().__init__()
        self.n_types, self.dim = n_types, dim
        cout = n_types * dim
        if separable:
            self.conv = Sequential([("dw", DepthwiseConv2d(cin, kernel, stride, 0, rng=rng, dtype=dtype, gain=1.0)),
                                    ("pw", PointwiseConv2d(cin, cout, bias=True, rng=rng, dtype=dtype,
                                                           gain=1.0 / dim))])
        else:
            self.conv = Sequential([("conv", Conv2d(cin, cout, kernel, stride, 0, rng=rng, dtype=dtype,
                                                    gain=1.0 / dim))])

    def forward(self, x):
        y = self.conv.forward(x)                                        # (N, T·D, Ho, Wo)
        N, _, Ho, Wo = y.shape
        self.grid = (Ho, Wo)                                            # of the last forward pass
        u = y.reshape(N, self.n_types, self.dim, Ho, Wo).transpose(0, 1, 3, 4, 2).reshape(N, -1, self.dim)
        out, self.cache = ops.squash_forward(u)
        return out

    def backward(self, dout):
        du = ops.squash_backward(dout, self.cache)
        N = du.shape[0]
        Ho, Wo = self.grid
        dy = du.reshape(N, self.n_types, Ho, Wo, self.dim).transpose(0, 1, 4, 2, 3).reshape(N, -1, Ho, Wo)
        return self.conv.backward(array_module(dy).ascontiguousarray(dy))

    def train(self):
        self.conv.train()

    def eval(self):
        self.conv.eval()

    def children(self):
        return self.conv.layers

    def output_shape(self, in_shape):
        N, _, Ho, Wo = self.conv.output_shape(in_shape)
        return (N, self.n_types * Ho * Wo, self.dim)

    def flops(self, in_shape):
        total = 0
        for _, conv in self.conv.layers:
            total += conv.flops(in_shape)
            in_shape = conv.output_shape(in_shape)
        return total

    def __repr__(self):
        return f"PrimaryCapsules({self.n_types} types × {self.dim}-D)"


class CapsuleLayer(Layer):
    """Emotion capsules: predictions û = w u, then dynamic routing (dot or cosine agreement).

    u: (N, I, Din) → v: (N, J, Dout).  w: (I, J, Dout, Din), Sabour et al.'s W_ij.

    Init scale. At the first iteration the coupling is uniform (c = 1/J), so s_j = (1/J)·Σ_i û_j|i is a
    sum of I predictions of random direction: |s_j| ≈ sqrt(I)·|û|/J, with |û| ≈ std·sqrt(Dout)·|u| and
    |u| ≤ 1 after squash. A fixed std makes the start depend on I: w ~ N(0, 0.01²), as often copied
    from CapsNet code, gives lengths near 1e-3 for a few hundred inputs — the margin loss's gradient
    through squash (∝ |s| near 0) vanishes and training sits at chance — while std ~ 0.5 saturates
    every length at 0.999 (squash's gradient vanishes there too). We draw w with

        std = init_scale · J / sqrt(I · Dout)        so that |s_j| ≈ init_scale · |u| at the start,

    which puts the initial lengths in the middle of squash's range. Cosine agreement is scale-free: each
    iteration moves the logits by up to ±1 whatever |û|, so the couplings concentrate on agreeing
    predictions and the sum turns coherent (|s| grows ~sqrt(I)·cos instead of staying a random walk):
    with init_scale = 1 and I = 4 608 the lengths after 3 iterations are all 0.98 (squash saturated).
    ``init_scale=None`` therefore means 1 for dot and 0.25 for cosine agreement, which starts both between
    about 0.35 and 0.75 for I from 512 to 4 608 when the primary capsules are 0.9 long (a test checks the
    lengths are neither ~0 nor saturated). :class:`PrimaryCapsules` starts them shorter, near 0.5, so the
    emotion capsules of a fresh network start at 0.14–0.48 (same I range): lower, but far from the
    near-silent 1e-3 of a fixed small std, and the CASIA runs train from there. With very few inputs
    (I = 32, image size 32) cosine starts lower still, near 0.1, and still trains.

    Shared over positions (``shared_types=T``, ``--shared-capsules``). Sabour's W_ij is one matrix per
    input capsule i = (type, position): a capsule of the same type at another grid position (another time,
    or another frequency where the map has more than one row) has its own W, so the head learns *where*
    in the image a pattern sits, and the number of positions is fixed by the image size. With
    ``shared_types=T`` there is one matrix per type, w: (T, J, Dout, Din), used at every position (a
    convolution's weight sharing, carried into the capsule head):

        û_j|i = w[type(i), j] · u_i,        ∂L/∂w[t, j] = Σ over the positions p of type t of ∂L/∂W_(t,p),j

    — the forward tiles w to (I, J, Dout, Din) (capsule i = type·P + position, :class:`PrimaryCapsules`'
    order) and the backward sums the tiled gradient back over the positions. The head then takes any
    number of positions (I = T·P for any P), so a longer window costs no more parameters. The initial w
    is drawn as the unshared one (the same std for I inputs, the same random numbers) and the first
    position's matrices are kept.
    """

    def __init__(self, n_in, dim_in, n_out, dim_out, iterations=3, agreement="dot", init_scale=None,
                 rng=None, dtype="float32", shared_types=None):
        super().__init__()
        rng = rng or numpy.random.default_rng(0)
        self.iterations, self.agreement = iterations, agreement
        if init_scale is None:
            init_scale = 1.0 if agreement == "dot" else 0.25
        std = init_scale * n_out / (n_in * dim_out) ** 0.5
        w = rng.normal(0, std, (n_in, n_out, dim_out, dim_in))
        if shared_types:
            if n_in % shared_types:
                raise ValueError(f"shared_types = {shared_types} does not divide the {n_in} input capsules")
            w = numpy.ascontiguousarray(w.reshape(shared_types, n_in // shared_types, *w.shape[1:])[:, 0])
        self.shared_types = shared_types
        self.params["w"] = _param(w, dtype)
        self.zero_grads()

    def weights_for(self, n_in):
        """W: (n_in, J, Dout, Din) — w itself, or with shared weights w tiled over n_in / T positions."""
        w = self.params["w"]
        if not self.shared_types:
            return w
        T = w.shape[0]
        if n_in % T:
            raise ValueError(f"u: {n_in} input capsules are not a whole number of positions of {T} types")
        tiled = array_module(w).broadcast_to(w[:, None], (T, n_in // T) + w.shape[1:])    # (T, P, J, Dout, Din)
        return tiled.reshape((n_in,) + w.shape[1:])          # a copy (T·P·J·Dout·Din values): small beside û

    def forward(self, u):
        u_hat, self.predict_cache = ops.capsule_predict_forward(u, self.weights_for(u.shape[1]))
        v, self.cache = ops.routing_forward(u_hat, self.iterations, self.agreement)
        return v

    def backward(self, dout):
        du_hat = ops.routing_backward(dout, self.cache)
        du, dw = ops.capsule_predict_backward(du_hat, self.predict_cache)
        if self.shared_types:                     # (I, J, Dout, Din) → (T, P, J, Dout, Din) → Σ over positions
            dw = dw.reshape((self.shared_types, -1) + dw.shape[1:]).sum(axis=1)
        self.grads["w"] = dw
        return du

    def coupling(self):
        """Coupling coefficients (N, I, J) of the last routing iteration of the last forward pass."""
        return ops.routing_coupling(self.cache)

    def output_shape(self, in_shape):
        I, J, Do, Di = self.params["w"].shape
        return (in_shape[0], J, Do)

    def flops(self, in_shape):
        _, J, Do, Di = self.params["w"].shape
        I = in_shape[1]
        return 2 * I * J * Do * Di + 2 * self.iterations * 2 * I * J * Do

    def __repr__(self):
        I, J, Do, Di = self.params["w"].shape
        inputs = f"{Di}-D, W shared over the positions of {I} types" if self.shared_types else f"{I}×{Di}-D"
        return f"CapsuleLayer({inputs} → {J}×{Do}-D, {self.iterations} iterations, {self.agreement})"


class CapsuleLength(Layer):
    def forward(self, v):
        out, self.cache = ops.capsule_length_forward(v)
        return out

    def backward(self, dout):
        return ops.capsule_length_backward(dout, self.cache)

    def output_shape(self, in_shape):
        return tuple(in_shape[:2])
