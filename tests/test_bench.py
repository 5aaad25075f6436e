"""The benchmark's pieces: interleaved timing, one step definition, and twins that do the same work."""

import math

import pytest

from lcn_np import bench, ops
from lcn_np.mobilenet import mobilenet_frontend


def test_interleaved_medians_times_in_turn_and_gives_nan_for_a_missing_side():
    calls = []
    t = bench.interleaved_medians([lambda: calls.append("a"), None, lambda: calls.append("b")], repeats=3, warmup=1)
    assert calls == ["a", "b"] + ["a", "b"] * 3
    assert t[0] >= 0 and math.isnan(t[1]) and t[2] >= 0


def test_our_step_trains():
    step = bench.our_step("cn-dsc-dr", 16, 2)
    step()
    step()


def test_torch_margin_loss_is_ours(rng):
    torch = pytest.importorskip("torch")
    lengths = rng.uniform(0, 1, (5, 6))
    labels = rng.integers(0, 6, 5)
    ours = float(ops.margin_loss_forward(lengths, labels)[0])
    theirs = float(bench.torch_margin_loss(torch.from_numpy(lengths), torch.from_numpy(labels)))
    assert abs(ours - theirs) < 1e-12


@pytest.mark.parametrize("size", [64, 128])
def test_torch_mobilenet_twin_has_our_shapes(size):
    pytest.importorskip("torch")
    _, c, grid = bench.torch_mobilenet_frontend(size)
    _, c_ours, grid_ours = mobilenet_frontend(size)
    assert (c, grid) == (c_ours, grid_ours)


def test_rss_of_a_step_is_a_positive_number(capsys):
    try:
        open("/proc/self/status").close()
    except OSError:
        pytest.skip("no /proc on this system")
    bench.main(["rss", "ours", "cn-dsc-dr", "16", "--batch-size", "2"])
    assert float(capsys.readouterr().out.strip()) >= 0
