"""Weights from elsewhere, read as data: Keras MobileNet-v1 .h5 files, our own .npz, BatchNorm folding,
and the factorisation of a standard convolution into depthwise + pointwise.

Layouts. Keras stores a convolution kernel as (kh, kw, in, out) and a depthwise kernel as
(kh, kw, C, 1); ours (PyTorch's) are (out, in, kh, kw) and (C, 1, kh, kw):

    conv:      w = k.transpose(3, 2, 0, 1)        depthwise: w = k.transpose(2, 3, 0, 1)

BatchNorm parameters map gamma → γ, beta → β, moving_mean → running_mean, moving_variance → running_var.

Nothing is unpickled: .h5 files are read through h5py (the optional extra ``lcn-np[weights]``),
.npz files with ``allow_pickle=False``.
"""

import pathlib
import urllib.request

import numpy

from .backend import array_module, to_numpy
from .checkpoint import atomic_write, cache_dir

MOBILENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
KNOWN = {"mobilenet_v1_0.25": ("mobilenet_v1_0.25_224_imagenet_notop.h5", "mobilenet_2_5_224_tf_no_top.h5")}


class WeightsError(ValueError):
    pass


def read_keras_h5(path):
    """{'layer/weight': array} from a Keras .h5 weight file, e.g. 'conv_dw_1/depthwise_kernel'."""
    try:
        import h5py
    except ImportError:
        raise WeightsError("reading Keras .h5 weights needs h5py: pip install 'lcn-np[weights]'") from None
    arrays = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                parts = name.split("/")
                arrays[f"{parts[0]}/{parts[-1].split(':')[0]}"] = numpy.array(obj)
        f.visititems(visit)
    return arrays


def keras_arrays_to_ours(arrays, frontend):
    """Our state (name → array) for every layer of ``frontend`` that the Keras arrays cover."""
    state = {}
    for name, layer in frontend.named():
        if not layer.params:
            continue
        kind = type(layer).__name__
        if kind == "BatchNorm2d":
            pairs = {"gamma": "gamma", "beta": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
            for ours, theirs in pairs.items():
                state[f"{name}.{ours}"] = _get(arrays, name, theirs)
        elif kind == "DepthwiseConv2d":
            state[f"{name}.w"] = _get(arrays, name, "depthwise_kernel").transpose(2, 3, 0, 1)
        elif kind in ("Conv2d", "PointwiseConv2d"):
            state[f"{name}.w"] = _get(arrays, name, "kernel").transpose(3, 2, 0, 1)
    return state


def _get(arrays, layer, weight):
    key = f"{layer}/{weight}"
    if key not in arrays:
        raise WeightsError(f"layer {layer}: the weight file has no {weight!r} "
                           f"(it holds layers such as {sorted({k.split('/')[0] for k in arrays})[:4]})")
    return arrays[key]


def load_state_into(frontend, state, source):
    """Copy arrays into the front end's parameters and buffers, checking every key and shape."""
    try:
        frontend.load_state_dict(state, source)
    except ValueError as exc:
        raise WeightsError(str(exc)) from None


def resolve(source, download=True, timeout=20):
    """A path for ``source``: an existing file, or a known name found in (or downloaded to) the cache."""
    if source in KNOWN:
        local_name, remote_name = KNOWN[source]
        path = cache_dir("weights") / local_name
        if path.is_file():
            return path
        if download:
            try:
                with urllib.request.urlopen(MOBILENET_URL + remote_name, timeout=timeout) as r:
                    atomic_write(path, lambda f: f.write(r.read()))
                return path
            except OSError as exc:
                reason = f"the download failed ({exc})"
        else:
            reason = "downloading is off"
        raise WeightsError(f"--pretrained {source}: {path} is missing and {reason}. Put the Keras Applications "
                           f"file {remote_name} (ImageNet MobileNet-v1 α=0.25, no top) there under the name "
                           f"{local_name}, or pass its path: --pretrained /path/to/{local_name}")
    path = pathlib.Path(source)
    if not path.is_file():
        raise WeightsError(f"--pretrained {source}: no such file, and not one of the known names {sorted(KNOWN)}")
    return path


def load_pretrained_frontend(frontend, source):
    """Load ImageNet (or our own) weights into a :func:`lcn_np.mobilenet.mobilenet_frontend`."""
    path = resolve(str(source))
    if path.suffix == ".npz":
        with numpy.load(path, allow_pickle=False) as data:
            state = {k: data[k] for k in data.files}
    else:
        state = keras_arrays_to_ours(read_keras_h5(path), frontend)
    load_state_into(frontend, state, path)
    return path


def save_frontend_npz(frontend, path):
    """Our own format: one array per parameter/buffer, named as in the model."""
    state = frontend.state_dict()
    atomic_write(path, lambda f: numpy.savez(f, **state))


def fold_batchnorm(w, b, gamma, beta, mean, var, eps=1e-3):
    """Fold an eval-mode BatchNorm into the convolution before it.

    BN(conv(x)) = γ·(w∗x + b − μ)/sqrt(σ² + ε) + β = (s·w)∗x + (s·(b − μ) + β),  s = γ/sqrt(σ² + ε),
    where s scales output channel o — axis 0 in every layout we use: conv (Cout, Cin, kh, kw),
    depthwise (C, 1, kh, kw), pointwise (Cout, Cin, 1, 1).  Returns (w', b').
    """
    xp = array_module(w)
    s = gamma / xp.sqrt(var + eps)
    b = xp.zeros_like(mean) if b is None else b
    return w * s.reshape(-1, *([1] * (w.ndim - 1))), (b - mean) * s + beta


def dsc_from_conv(w):
    """Factor a standard k×k kernel into depthwise + pointwise by the best rank-1 fit per input channel.

    A DSC computes Σ_c P[o,c]·Σ_pq D[c,p,q]·x_c, i.e. the standard kernel w[o,c,p,q] ≈ P[o,c]·D[c,p,q]:
    for each input channel c the (Cout × k²) matrix w[:, c] is approximated by the rank-1 matrix
    P[:, c] D[c]ᵀ. By Eckart–Young the best one (in the Frobenius norm) is σ₁u₁v₁ᵀ from its SVD;
    we split σ₁ evenly: P[:, c] = sqrt(σ₁)·u₁, D[c] = sqrt(σ₁)·v₁.

    w: (Cout, Cin, k, k) → (depthwise (Cin, 1, k, k), pointwise (Cout, Cin, 1, 1), relative error
    ‖w − P·D‖ / ‖w‖). A one-off conversion of weights, done in float64 NumPy on the CPU (``w`` may live on
    the device; move the results back with ``backend.to_device``).
    """
    w = to_numpy(w).astype(numpy.float64)
    Cout, Cin, kh, kw = w.shape
    M = w.transpose(1, 0, 2, 3).reshape(Cin, Cout, kh * kw)                  # one matrix per input channel
    U, S, Vt = numpy.linalg.svd(M, full_matrices=False)
    root = numpy.sqrt(S[:, 0])
    pointwise = (U[:, :, 0] * root[:, None]).T.reshape(Cout, Cin, 1, 1)
    depthwise = (Vt[:, 0, :] * root[:, None]).reshape(Cin, 1, kh, kw)
    approx = pointwise[:, :, 0, 0][:, :, None, None] * depthwise[:, 0][None]
    error = numpy.linalg.norm(w - approx) / max(numpy.linalg.norm(w), 1e-300)
    return depthwise, pointwise, float(error)
