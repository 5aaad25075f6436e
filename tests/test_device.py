"""The whole GPU path on every device of the ``device`` fixture: NumPy, the strict CuPy stand-in, CuPy.

One training step of every variant, ``train`` for a few steps, ``predict``, the checkpoint round trip and
the transfer loader, each compared with the same computation on the CPU: on the stand-in (NumPy
underneath) the numbers must be identical, on CuPy close. The last tests plant the classic host/device
bugs and show that these checks, and the op table's, catch every one on the stand-in.
"""

import argparse
import functools
import json

import numpy
import pytest

from lcn_np import backend, layers, ops, predict, standin, train
from lcn_np.backend import array_module, to_numpy
from lcn_np.checkpoint import load_checkpoint, save_checkpoint
from lcn_np.model import VARIANTS, build
from lcn_np.optim import make_optimizer

TINY = dict(channels=(8, 12), n_types=4, caps_dim=4, out_dim=6)
TRAIN = ["--synthetic-per-class", "1", "--image-size", "16", "--epochs", "1", "--batch-size", "8", "--no-cache",
         "--variant", "lcn"]


def exact(xp):
    """NumPy and the stand-in (NumPy underneath) must agree bit for bit; CuPy's kernels round differently."""
    return xp.__name__ != "cupy"


def same(a, b, xp, what, rtol=1e-4):
    """Identical on the stand-in and NumPy; within float32 rounding (``rtol``) on a real GPU."""
    a, b = to_numpy(a), to_numpy(b)
    if exact(xp):
        numpy.testing.assert_array_equal(a, b, err_msg=what)
    else:
        numpy.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * float(numpy.abs(b).max(initial=0)), err_msg=what)


def on_cpu(fn, *args):
    """``fn(*args)`` with the CPU as the current device, then the device restored."""
    previous = backend.get_device()
    backend.set_device("cpu")
    try:
        return fn(*args)
    finally:
        backend.set_device(previous)


# -- one training step of every variant ------------------------------------------------------------------
def training_step(variant):
    """Build a tiny ``variant`` on the current device and take one step of train.train_step (dropout on)."""
    model = build(variant, 4, 16, seed=0, **TINY)
    opt = make_optimizer("adamw", model.parameters, 1e-2, 1e-2)
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((5, 3, 16, 16)).astype(numpy.float32)
    y = numpy.arange(5) % 4
    where = {"rng": numpy.random.default_rng([0, 0, 0]), "epoch": 0, "step": 0}
    loss, scores = train.train_step(model, opt, argparse.Namespace(lr=1e-2), x, y, 1e-2, where)
    return model, opt, loss, scores


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_training_step_of_every_variant(device, variant):
    model, _, loss, scores = training_step(variant)
    assert array_module(scores) is device and scores.dtype == numpy.float32
    assert all(array_module(p, g) is device for p, g in model.parameters().values())
    assert numpy.isfinite(loss)
    cpu_model, _, cpu_loss, cpu_scores = on_cpu(training_step, variant)
    same(scores, cpu_scores, device, "scores")
    same(loss, cpu_loss, device, "loss")
    grads, cpu_grads = model.parameters(), cpu_model.parameters()
    for k in cpu_grads:
        same(grads[k][1], cpu_grads[k][1], device, f"gradient of {k}", rtol=1e-3)
    if exact(device):            # Adam moves a weight by ±lr whatever its gradient's size: compare only here
        state, cpu_state = model.state_dict(), cpu_model.state_dict()
        for k in cpu_state:
            same(state[k], cpu_state[k], device, k)


# -- train for a few steps, then predict ---------------------------------------------------------------
def train_run(out):
    assert train.main(TRAIN + ["--out", str(out)]) == 0
    return json.loads((out / "metrics.json").read_text()), load_checkpoint(out / "last.npz")[0]


@pytest.fixture(scope="module", autouse=True)
def synthesise_once():
    """The synthetic corpus is the same for every run here: synthesise it once (it is most of a run's time)."""
    from lcn_np.data import synthetic
    with pytest.MonkeyPatch.context() as m:
        m.setattr(synthetic, "make_corpus", functools.lru_cache(synthetic.make_corpus))
        yield


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory):
    """The CPU's run of the same command: the reference every device must reproduce."""
    root = tmp_path_factory.mktemp("cpu")
    previous = backend._device
    backend.set_device("cpu")
    try:
        return train_run(root / "run") + (root / "run",)
    finally:
        backend._device = previous


def test_train_a_few_steps(device, cpu_run, tmp_path, capsys):
    cpu_metrics, cpu_state, _ = cpu_run
    metrics, state = cpu_run[:2] if device is numpy else train_run(tmp_path / "run")   # NumPy: the reference
    assert len(metrics["history"]) == 1 and sorted(state) == sorted(cpu_state)
    same(metrics["history"][0]["loss"], cpu_metrics["history"][0]["loss"], device, "loss", rtol=1e-3)
    assert all(type(v) is numpy.ndarray for v in state.values())    # the checkpoint holds NumPy arrays
    if exact(device):
        assert metrics["confusion"] == cpu_metrics["confusion"]
        for k in cpu_state:
            same(state[k], cpu_state[k], device, k)


def test_predict(device, cpu_run, tmp_path, capsys):
    import soundfile
    from lcn_np.data.synthetic import make_corpus
    wav = tmp_path / "one.wav"
    soundfile.write(wav, make_corpus(per_class=1, n_speakers=1, seed=5).waves[0], 16000)
    checkpoint = cpu_run[2] / "best.npz"
    model, classes, config = predict.load_model(checkpoint)
    assert all(array_module(p) is device for p, _ in model.parameters().values())
    label, scores, _ = predict.predict_file(model, classes, config, wav)
    cpu_label, cpu_scores, _ = on_cpu(lambda: predict.predict_file(*predict.load_model(checkpoint), wav))
    assert label == cpu_label
    same(list(scores.values()), list(cpu_scores.values()), device, "scores")
    assert predict.main(["--checkpoint", str(checkpoint), str(wav)]) == 0 and label in capsys.readouterr().out


# -- checkpoint round trip: weights and optimizer state leave the device and come back -------------------
def test_checkpoint_round_trip(device, tmp_path):
    model, opt, _, _ = training_step("cn-dsc-dr")              # weights and Adam's moments after one step
    save_checkpoint(tmp_path / "c.npz", model.state_dict(), opt.state_dict(), {"v": 1})
    state, optim_state, _ = load_checkpoint(tmp_path / "c.npz")
    other = build("cn-dsc-dr", 4, 16, seed=1, **TINY)
    other_opt = make_optimizer("adamw", other.parameters, 1e-2, 1e-2)
    other.load_state_dict(state)
    other_opt.load_state_dict(optim_state)
    assert all(array_module(s["m"], s["v"]) is device for s in other_opt.state.values())
    x = device.asarray(numpy.random.default_rng(3).standard_normal((3, 3, 16, 16)).astype(numpy.float32))
    y = device.asarray(numpy.array([0, 1, 3]))
    for m, o in ((model, opt), (other, other_opt)):              # one more identical step on both
        m.backward(m.loss_backward(m.loss_forward(m.forward(x), y)[1]))
        o.step()
    for k, v in model.state_dict().items():
        numpy.testing.assert_array_equal(v, other.state_dict()[k], err_msg=k)


# -- the transfer loader: Keras .h5 and our .npz onto the device ----------------------------------------
def test_transfer_loader(device, tmp_path):
    pytest.importorskip("h5py")
    from test_weights import write_keras_h5
    from lcn_np import weights
    from lcn_np.mobilenet import mobilenet_frontend
    write_keras_h5(tmp_path / "tiny.h5", n_blocks=3)
    model = build("lcn", 4, 32, seed=0, pretrained=tmp_path / "tiny.h5", **TINY)
    cpu = on_cpu(lambda: build("lcn", 4, 32, seed=0, pretrained=tmp_path / "tiny.h5", **TINY))
    frontend = model.layer("frontend")
    assert all(array_module(p) is device for p, _ in model.parameters().values())
    x = numpy.random.default_rng(4).uniform(-1, 1, (2, 3, 32, 32)).astype(numpy.float32)
    model.eval()
    cpu.eval()
    same(model.features(device.asarray(x)), cpu.features(x), device, "ImageNet features")
    weights.save_frontend_npz(frontend, tmp_path / "f.npz")
    again, _, _ = mobilenet_frontend(32, rng=numpy.random.default_rng(9))
    weights.load_pretrained_frontend(again, tmp_path / "f.npz")
    for k, v in frontend.state_dict().items():
        numpy.testing.assert_array_equal(v, again.state_dict()[k], err_msg=k)
    bn = dict(frontend.named())["conv1_bn"]
    w, b = weights.fold_batchnorm(dict(frontend.named())["conv1"].params["w"], None, bn.params["gamma"],
                                  bn.params["beta"], bn.buffers["running_mean"], bn.buffers["running_var"])
    assert array_module(w, b) is device


# -- host-side helpers handed device arrays (each refused an array from the GPU before the stand-in) -----
def test_host_side_helpers_take_device_arrays(device):
    from lcn_np import metrics, weights
    model = build("cn", 4, 16, seed=0, **TINY)
    state = model.state_dict()
    model.load_state_dict({k: device.asarray(v) for k, v in state.items()})     # a state straight off a device
    for k, v in model.state_dict().items():
        numpy.testing.assert_array_equal(v, state[k], err_msg=k)
    w = dict(model.body.named())["frontend.block2.conv"].params["w"]
    dw, pw, err = weights.dsc_from_conv(w)                       # a one-off CPU conversion of device weights
    assert dw.shape == (8, 1, 3, 3) and pw.shape == (8, 8, 1, 1) and 0 < err < 1
    result = metrics.scores(numpy.array([0, 1, 1]), device.asarray(numpy.array([0, 1, 0])), 2)
    assert result["confusion"] == [[1, 0], [1, 1]]


# -- planted host/device bugs: each one fails the checks above on the stand-in --------------------------
PLANTS = {"numpy.asarray(dout)": lambda dout: numpy.asarray(dout),
          "dout + numpy.zeros(1)": lambda dout: dout + numpy.zeros(1)}


def planted(original, plant, loss):
    """``original`` with ``plant`` run on its upstream gradient first (a loss has none: on its result)."""
    if loss:
        def backward(cache):
            grad = original(cache)
            plant(grad)
            return grad
    else:
        def backward(dout, cache):
            plant(dout)
            return original(dout, cache)
    return backward


@pytest.mark.parametrize("plant", PLANTS)
@pytest.mark.parametrize("name", ops.PAIRS)
def test_a_host_array_planted_in_any_backward_fails_the_op_table_on_the_standin(name, plant, monkeypatch):
    """Planted in ``ops.<name>_backward`` — the name the layers call too — the bug is harmless on NumPy
    and caught on the stand-in by the op table's gradient check."""
    from test_ops_contract import test_gradient_check_float64_odd_sizes as op_table_check
    attr = f"{name}_backward"
    monkeypatch.setattr(ops, attr, planted(getattr(ops, attr), PLANTS[plant], name in ops.LOSSES))
    op_table_check(name, numpy)                                # NumPy cannot see it
    with pytest.raises(TypeError, match="(Implicit conversion|NumPy array was mixed)"):
        op_table_check(name, standin)


# the variant whose training step reaches each backward through its layers (power_spectrogram: none)
USED_BY = {"conv2d": "cn", "depthwise_conv2d": "cn-dsc", "pointwise_conv2d": "cn-dsc", "maxpool2d": "cn",
           "global_avgpool": "cnn-gap", "relu": "cn", "relu6": "lcn", "batchnorm2d": "cn", "linear": "cnn",
           "squash": "cn", "capsule_predict": "cn", "capsule_length": "cn", "routing": "cn", "margin_loss": "cn",
           "softmax_cross_entropy": "cnn"}


@pytest.mark.parametrize("name", sorted(USED_BY))
def test_a_host_array_planted_in_a_backward_fails_the_training_step_on_the_standin(name, monkeypatch):
    """The layers call ``ops.<name>_backward`` through the package namespace, so the plant reaches them; a
    model holds its loss pair from ``model.LOSSES``, so a loss's plant goes there."""
    from lcn_np import model
    attr = f"{name}_backward"
    bad = planted(getattr(ops, attr), PLANTS["dout + numpy.zeros(1)"], name in ops.LOSSES)
    monkeypatch.setattr(ops, attr, bad)
    for key, (forward, backward) in list(model.LOSSES.items()):
        if backward.__name__ == attr:
            monkeypatch.setitem(model.LOSSES, key, (forward, bad))
    use_standin(monkeypatch)
    with pytest.raises(TypeError, match="NumPy array was mixed"):
        test_one_training_step_of_every_variant(standin, USED_BY[name])


def use_standin(monkeypatch):
    monkeypatch.setattr(backend, "_device", None)
    backend.set_device("standin")


def test_an_implicit_conversion_planted_in_dropout_fails_the_training_step(monkeypatch):
    forward = layers.Dropout.forward

    def converting(self, x):
        numpy.asarray(x)
        return forward(self, x)
    monkeypatch.setattr(layers.Dropout, "forward", converting)
    training_step("cnn")                                       # NumPy cannot see it
    use_standin(monkeypatch)
    with pytest.raises(TypeError, match="Implicit conversion"):
        test_one_training_step_of_every_variant(standin, "cnn")


def test_an_implicit_conversion_planted_in_the_train_loop_fails_train(monkeypatch, cpu_run, tmp_path, capsys):
    step = train.train_step

    def converting(*args, **kwargs):
        loss, scores = step(*args, **kwargs)
        numpy.asarray(scores)
        return loss, scores
    monkeypatch.setattr(train, "train_step", converting)
    assert train.main(TRAIN + ["--out", str(tmp_path / "numpy"), "--stop-after-steps", "1"]) == 130   # NumPy: 1 step
    use_standin(monkeypatch)
    with pytest.raises(TypeError, match="Implicit conversion"):
        test_train_a_few_steps(standin, cpu_run, tmp_path, capsys)
