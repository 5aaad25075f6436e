"""The paper's networks: Table 1 weight counts, shapes, state, overfitting a tiny batch, determinism."""

import numpy
import pytest

from lcn_np.gradcheck import check_gradients
from lcn_np.ops import margin_loss_backward, margin_loss_forward
from lcn_np.model import VARIANTS, build
from lcn_np.optim import Adam

TINY = dict(channels=(8, 12), n_types=4, caps_dim=4, out_dim=6)


def test_table1_weight_counts():
    model = build("cn-dsc", image_size=64)
    convs = dict(model.body.named())
    counts = [convs[f"frontend.block{k}.dw"].n_parameters() + convs[f"frontend.block{k}.pw"].n_parameters()
              for k in (1, 2, 3, 4)]
    assert counts == [219, 4672, 8768, 17536]


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v not in ("cn-dsc-pm", "lcn")] + ["lcn"])
@pytest.mark.parametrize("size", [32, 64])
def test_output_shapes(variant, size):
    model = build(variant, n_classes=5, image_size=size, **({} if variant == "lcn" else TINY))
    x = numpy.random.default_rng(0).standard_normal((3, 3, size, size)).astype(numpy.float32)
    out = model.forward(x)
    assert out.shape == (3, 5) and out.dtype == numpy.float32
    assert model.backward(numpy.ones_like(out)).shape == x.shape


@pytest.mark.parametrize("variant, size", [("lcn", (32, 40)), ("cn", 24), ("cn-dsc-dr", 24)])
def test_training_backward_skips_the_image_gradient(variant, size):
    """input_grad=False (what training calls): the first layer — a stride-2 conv (lcn), a stride-1 conv
    (cn), a depthwise conv (cn-dsc-dr) — returns no dx, and every parameter's gradient is bit-identical."""
    kw = dict(n_blocks=2) if variant == "lcn" else TINY
    x = numpy.random.default_rng(1).standard_normal((3, 3) + ((size, size) if isinstance(size, int) else size))
    grads = []
    for input_grad in (True, False):
        model = build(variant, 4, size, seed=3, dtype="float64", **kw)
        out = model.forward(x)
        dx = model.backward(numpy.linspace(-1, 1, out.size).reshape(out.shape), input_grad=input_grad)
        assert (dx is None) == (not input_grad) and (dx is None or dx.shape == x.shape)
        grads.append({name: g.copy() for name, (_, g) in model.parameters().items()})
    assert next(model.body.named())[1].needs_input_grad                # restored after the pass
    for name in grads[0]:
        numpy.testing.assert_array_equal(grads[0][name], grads[1][name], err_msg=name)


def test_primary_capsule_counts():
    assert build("cn-dsc-dr", image_size=64).config["n_primary_capsules"] == 512
    assert build("cn-dsc-dr", image_size=128).config["n_primary_capsules"] == 4608
    assert build("lcn", image_size=64).config["n_primary_capsules"] == 512


def test_state_dict_round_trip_and_errors():
    a, b = build("cn-dsc-dr", 6, 32, seed=1, **TINY), build("cn-dsc-dr", 6, 32, seed=2, **TINY)
    b.load_state_dict(a.state_dict())
    for k, v in a.state_dict().items():
        numpy.testing.assert_array_equal(v, b.state_dict()[k])
    state = a.state_dict()
    state["digit.w"] = state["digit.w"][:, :3]
    with pytest.raises(ValueError, match=r"digit.w: expected shape"):
        b.load_state_dict(state)
    del state["digit.w"]
    with pytest.raises(ValueError, match="missing"):
        b.load_state_dict(state)


def test_same_seed_same_weights_and_parameter_names():
    a, b = build("cn", 6, 32, seed=3, **TINY), build("cn", 6, 32, seed=3, **TINY)
    for k, v in a.state_dict().items():
        numpy.testing.assert_array_equal(v, b.state_dict()[k])
    names = list(a.parameters())
    assert all(n.split(".")[0] in ("frontend", "primary", "digit") for n in names)


@pytest.mark.parametrize("variant", ["cn-dsc-dr", "cnn"])
def test_overfits_a_tiny_batch(variant):
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((12, 3, 16, 16)).astype(numpy.float32)
    y = numpy.arange(12) % 3
    model = build(variant, 3, 16, seed=0, dropout=0.0, **TINY)
    opt = Adam(model.parameters, lr=0.01)
    accuracy = 0.0
    for step in range(1, 121):                  # at most 120 steps; stop as soon as it fits (checked every 10)
        loss, cache = model.loss_forward(model.forward(x), y)
        model.backward(model.loss_backward(cache))
        opt.step()
        if step % 10 == 0:
            model.eval()
            accuracy = (model.forward(x).argmax(axis=1) == y).mean()
            model.train()
            if accuracy == 1.0:
                break
    assert accuracy == 1.0, f"{variant} did not fit 12 examples in 120 steps (training accuracy {accuracy:.2f})"


def test_whole_model_gradient(rng):
    """The gradient of the margin loss of cn-dsc-dr w.r.t. its input, in float64, end to end (odd, not square)."""
    model = build("cn-dsc-dr", 3, (13, 11), seed=0, dtype="float64", channels=(3, 4), n_types=2, caps_dim=3,
                  out_dim=4)
    x = rng.standard_normal((2, 3, 13, 11))
    labels = numpy.array([0, 2])

    def forward(x):
        return margin_loss_forward(model.forward(x), labels)

    def backward(cache):
        return model.backward(margin_loss_backward(cache))
    report = check_gradients(forward, backward, [x], names=["x"], tol=1e-4)
    assert report.ok, str(report)


def test_summary_counts_parameters():
    model = build("cn-dsc-dr", image_size=64)
    text = model.summary()
    assert f"{model.n_parameters():,d}" in text and "frontend.block4.pw" in text


def test_unknown_variant_and_pretrained_on_wrong_variant():
    with pytest.raises(ValueError, match="variant must be one of"):
        build("capsnet")
    with pytest.raises(ValueError, match="--pretrained needs a variant"):
        build("cn-dsc", pretrained="x.h5")


def test_summary_keeps_eval_mode_and_nan_weights_are_refused():
    model = build("cn-dsc-dr", 6, 32, **TINY)
    model.eval()
    model.summary()
    assert not model.training and not dict(model.body.named())["frontend.block1.dw_bn"].training
    state = model.state_dict()
    state["digit.w"][0, 0, 0, 0] = numpy.nan
    with pytest.raises(ValueError, match="digit.w contains NaN"):
        model.load_state_dict(state)


@pytest.mark.parametrize("variant", VARIANTS)
def test_output_shapes_are_known_without_running(variant):
    """Every layer's output_shape agrees with what its forward returns (the summary relies on it)."""
    model = build(variant, 6, 32, seed=0)
    model.eval()
    x = numpy.zeros((2, 3, 32, 32), numpy.float32)
    for name, layer in model.body.layers:
        units = list(layer.named(name + ".")) if name == "frontend" else [(name, layer)]
        for unit_name, unit in units:
            expected = unit.output_shape(x.shape)
            x = unit.forward(x)
            assert tuple(x.shape) == tuple(expected), unit_name


def test_the_papers_cnn_baseline_is_its_own_network():
    """conv 3×3 with 64, 128, 256, 512 channels, each followed by 2×2 max-pooling, then fully connected."""
    model = build("cnn", 6, 64, seed=0)
    convs = [leaf for name, leaf in model.body.named() if name.endswith(".conv")]
    assert [c.shape[0] for c in convs] == [64, 128, 256, 512] and all(c.shape[2:] == (3, 3) for c in convs)
    pools = [name for name, leaf in model.body.named() if type(leaf).__name__ == "MaxPool2d"]
    assert len(pools) == 4 and model.loss == "cross_entropy"
    assert model.layer("classifier").params["w"].shape == (6, 512 * 4 * 4)
    assert build("cnn-gap", 6, 64).layer("classifier").params["w"].shape == (6, 128)


def test_summary_of_a_rectangular_input():
    text = build("lcn", 6, (32, 48)).summary()
    assert text.startswith("lcn: input (3, 32, 48)") and "total" in text
