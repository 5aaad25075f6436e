"""Transfer learning: Keras .h5 loading, layout conversion, BatchNorm folding, DSC factorisation."""

import numpy
import pytest

from conftest import shared_path
from lcn_np import weights
from lcn_np.ops import conv2d_forward, depthwise_conv2d_forward, pointwise_conv2d_forward
from lcn_np.mobilenet import BLOCKS, mobilenet_frontend
from lcn_np.ops import batchnorm2d_forward

h5py = pytest.importorskip("h5py")


def write_keras_h5(path, n_blocks, alpha=0.25, seed=0):
    """A Keras-layout MobileNet weight file with random numbers, named exactly as the real one."""
    rng = numpy.random.default_rng(seed)
    arrays = {}

    def bn(name, c):
        arrays[f"{name}/{name}/gamma:0"] = rng.uniform(0.5, 1.5, c)
        arrays[f"{name}/{name}/beta:0"] = rng.standard_normal(c) * 0.1
        arrays[f"{name}/{name}/moving_mean:0"] = rng.standard_normal(c) * 0.1
        arrays[f"{name}/{name}/moving_variance:0"] = rng.uniform(0.5, 2, c)

    c = int(32 * alpha)
    arrays["conv1/conv1/kernel:0"] = rng.standard_normal((3, 3, 3, c)) * 0.3
    bn("conv1_bn", c)
    for k, (cout, _) in enumerate(BLOCKS[:n_blocks], start=1):
        cout = int(cout * alpha)
        arrays[f"conv_dw_{k}/conv_dw_{k}/depthwise_kernel:0"] = rng.standard_normal((3, 3, c, 1)) * 0.3
        bn(f"conv_dw_{k}_bn", c)
        arrays[f"conv_pw_{k}/conv_pw_{k}/kernel:0"] = rng.standard_normal((1, 1, c, cout)) * 0.3
        bn(f"conv_pw_{k}_bn", cout)
        c = cout
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value.astype(numpy.float32))
    return {k.split("/")[0] + "/" + k.split("/")[-1].split(":")[0]: v for k, v in arrays.items()}


def keras_forward(arrays, x_nhwc, n_blocks):
    """An independent MobileNet forward in Keras' NHWC layout, from the raw h5 arrays."""
    def conv(x, k, stride, depthwise=False):
        kh, kw = k.shape[:2]
        if stride == 2:
            x = numpy.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))            # Keras: bottom/right only
        else:
            x = numpy.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        N, H, W, C = x.shape
        Ho, Wo = (H - kh) // stride + 1, (W - kw) // stride + 1
        out = 0
        for p in range(kh):
            for q in range(kw):
                patch = x[:, p:p + stride * (Ho - 1) + 1:stride, q:q + stride * (Wo - 1) + 1:stride, :]
                out = out + (patch * k[p, q, :, 0] if depthwise else patch @ k[p, q])
        return out

    def bn_relu6(x, name):
        g, b, m, v = (arrays[f"{name}/{w}"] for w in ("gamma", "beta", "moving_mean", "moving_variance"))
        return numpy.clip((x - m) / numpy.sqrt(v + 1e-3) * g + b, 0, 6)

    x = bn_relu6(conv(x_nhwc, arrays["conv1/kernel"], 2), "conv1_bn")
    for k, (_, stride) in enumerate(BLOCKS[:n_blocks], start=1):
        x = bn_relu6(conv(x, arrays[f"conv_dw_{k}/depthwise_kernel"], stride, depthwise=True), f"conv_dw_{k}_bn")
        x = bn_relu6(x @ arrays[f"conv_pw_{k}/kernel"][0, 0], f"conv_pw_{k}_bn")
    return x


def ours_forward(path, x_nchw, n_blocks, dtype="float64"):
    frontend, _, _ = mobilenet_frontend(x_nchw.shape[2], n_blocks=n_blocks, dtype=dtype)
    weights.load_pretrained_frontend(frontend, path)
    frontend.eval()
    return frontend.forward(x_nchw.astype(dtype))


def test_tiny_h5_loads_into_the_right_places(tmp_path):
    path = tmp_path / "tiny.h5"
    arrays = write_keras_h5(path, n_blocks=2)
    frontend, c_out, _ = mobilenet_frontend(32, n_blocks=2)
    weights.load_pretrained_frontend(frontend, path)
    layers = dict(frontend.named())
    numpy.testing.assert_allclose(layers["conv1"].params["w"][5, 2, 0, 1], arrays["conv1/kernel"][0, 1, 2, 5], rtol=1e-6)
    numpy.testing.assert_allclose(layers["conv_dw_2"].params["w"][7, 0, 2, 1],
                                  arrays["conv_dw_2/depthwise_kernel"][2, 1, 7, 0], rtol=1e-6)
    numpy.testing.assert_allclose(layers["conv_pw_1"].params["w"][:, :, 0, 0], arrays["conv_pw_1/kernel"][0, 0].T, rtol=1e-6)
    numpy.testing.assert_allclose(layers["conv_pw_2_bn"].buffers["running_var"], arrays["conv_pw_2_bn/moving_variance"], rtol=1e-6)
    assert c_out == 32


def test_tiny_h5_forward_matches_independent_keras_forward(tmp_path):
    path = tmp_path / "tiny.h5"
    arrays = write_keras_h5(path, n_blocks=3)
    arrays = {k: v.astype(numpy.float32).astype(numpy.float64) for k, v in arrays.items()}
    x = numpy.random.default_rng(1).uniform(-1, 1, (2, 3, 40, 56))
    ours = ours_forward(path, x, 3)
    theirs = keras_forward(arrays, x.transpose(0, 2, 3, 1), 3).transpose(0, 3, 1, 2)
    assert ours.shape == theirs.shape == (2, 32, 10, 14)
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


def test_real_imagenet_weights_give_the_keras_features():
    path = shared_path("weights", "mobilenet_v1_0.25_224_imagenet_notop.h5")
    arrays = {k: v.astype(numpy.float64) for k, v in weights.read_keras_h5(path).items()}
    x = numpy.random.default_rng(2).uniform(-1, 1, (1, 3, 40, 56))
    ours = ours_forward(path, x, 5)
    theirs = keras_forward(arrays, x.transpose(0, 2, 3, 1), 5).transpose(0, 3, 1, 2)
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    ours32 = ours_forward(path, x, 5, dtype="float32")
    assert numpy.abs(ours32 - theirs).max() <= 1e-4 * numpy.abs(theirs).max()


def test_mismatched_shape_names_the_layer(tmp_path):
    path = tmp_path / "tiny.h5"
    write_keras_h5(path, n_blocks=2, alpha=0.5)                     # twice as wide as our α = 0.25
    frontend, _, _ = mobilenet_frontend(32, n_blocks=2)
    with pytest.raises(weights.WeightsError, match=r"conv1.w: expected shape \(8, 3, 3, 3\), found \(16, 3, 3, 3\)"):
        weights.load_pretrained_frontend(frontend, path)


def test_missing_layer_is_named(tmp_path):
    path = tmp_path / "tiny.h5"
    write_keras_h5(path, n_blocks=1)
    frontend, _, _ = mobilenet_frontend(32, n_blocks=2)
    with pytest.raises(weights.WeightsError, match="layer conv_dw_2"):
        weights.load_pretrained_frontend(frontend, path)


def test_offline_download_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("LCN_CACHE", str(tmp_path))

    def offline(*a, **k):
        raise OSError("network is unreachable")
    monkeypatch.setattr(weights.urllib.request, "urlopen", offline)
    with pytest.raises(weights.WeightsError) as err:
        weights.resolve("mobilenet_v1_0.25")
    text = str(err.value)
    assert str(tmp_path / "weights" / "mobilenet_v1_0.25_224_imagenet_notop.h5") in text
    assert "mobilenet_2_5_224_tf_no_top.h5" in text and "network is unreachable" in text


def test_npz_round_trip(tmp_path):
    frontend, _, _ = mobilenet_frontend(32, n_blocks=2, rng=numpy.random.default_rng(5))
    weights.save_frontend_npz(frontend, tmp_path / "f.npz")
    other, _, _ = mobilenet_frontend(32, n_blocks=2, rng=numpy.random.default_rng(6))
    weights.load_pretrained_frontend(other, tmp_path / "f.npz")
    a, b = dict(frontend.named()), dict(other.named())
    numpy.testing.assert_array_equal(a["conv_pw_2"].params["w"], b["conv_pw_2"].params["w"])


@pytest.mark.parametrize("kind", ["conv", "depthwise", "pointwise"])
def test_fold_batchnorm_agrees_with_unfolded(rng, kind):
    x = rng.standard_normal((2, 4, 7, 9))
    gamma, beta, mean, var = rng.uniform(0.5, 1.5, 5), rng.standard_normal(5), rng.standard_normal(5), rng.uniform(0.5, 2, 5)
    if kind == "conv":
        w, b = rng.standard_normal((5, 4, 3, 3)), rng.standard_normal(5)
        f = lambda w, b: conv2d_forward(x, w, b, 1, 1)[0]          # noqa: E731
    elif kind == "depthwise":
        x = x[:, :4]
        gamma, beta, mean, var = gamma[:4], beta[:4], mean[:4], var[:4]
        w, b = rng.standard_normal((4, 1, 3, 3)), None
        f = lambda w, b: depthwise_conv2d_forward(x, w, b, 2, 1)[0]  # noqa: E731
    else:
        w, b = rng.standard_normal((5, 4, 1, 1)), None
        f = lambda w, b: pointwise_conv2d_forward(x, w, b)[0]       # noqa: E731
    unfolded = batchnorm2d_forward(f(w, b), gamma, beta, mean.copy(), var.copy(), train=False, eps=1e-3)[0]
    wf, bf = weights.fold_batchnorm(w, b, gamma, beta, mean, var, eps=1e-3)
    numpy.testing.assert_allclose(f(wf, bf), unfolded, rtol=1e-10, atol=1e-10)


def test_dsc_from_conv_is_exact_for_rank1_kernels(rng):
    P, D = rng.standard_normal((6, 5)), rng.standard_normal((5, 3, 3))
    w = P[:, :, None, None] * D[None]
    dw, pw, err = weights.dsc_from_conv(w)
    assert err < 1e-12
    x = rng.standard_normal((2, 5, 7, 9))
    direct = conv2d_forward(x, w, None, 1, 1)[0]
    separable = pointwise_conv2d_forward(depthwise_conv2d_forward(x, dw, None, 1, 1)[0], pw)[0]
    numpy.testing.assert_allclose(separable, direct, rtol=1e-9, atol=1e-9)


def test_dsc_from_conv_beats_random_factorisations(rng):
    w = rng.standard_normal((8, 4, 3, 3))
    dw, pw, err = weights.dsc_from_conv(w)
    assert 0 < err < 1
    for _ in range(20):
        d, p = rng.standard_normal((4, 1, 3, 3)), rng.standard_normal((8, 4, 1, 1))
        approx = p[:, :, 0, 0][:, :, None, None] * d[:, 0][None]
        scale = (approx * w).sum() / (approx * approx).sum()      # even the best scaling of it
        assert numpy.linalg.norm(w - scale * approx) / numpy.linalg.norm(w) >= err
