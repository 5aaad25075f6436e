"""Benchmarks: interleaved timing, one step definition with twins that do the same work; both tables run
on the strict CuPy stand-in — the GPU code path (inputs moved to the device, synchronised timings) on a
machine without a GPU — and ``--device gpu`` without a GPU says so in one line."""

import math

import pytest

from lcn_np import backend, bench, ops
from lcn_np.mobilenet import mobilenet_frontend


def table_rows(out, header):
    """The rows under the header line that starts with ``header``."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    return lines[start + 1:]


def test_ops_table_on_the_standin(capsys):
    assert bench.main(["ops", "--device", "standin", "--batch", "1", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "device standin" in out
    rows = table_rows(out, "op ")
    assert len(rows) >= 10 and "depthwise" in rows[0]
    for row in rows:                                        # name (34 characters), then ours ms
        ms = float(row[35:44])
        assert math.isfinite(ms) and ms > 0, row


def test_train_table_on_the_standin(capsys):
    assert bench.main(["train", "--device", "standin", "--sizes", "16", "--variants", "cn-dsc-dr", "lcn",
                       "--batch-size", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out, "variant ")
    assert [r.split()[0] for r in rows] == ["cn-dsc-dr", "lcn"] and "device standin" in out
    assert all(float(r.split()[2]) > 0 for r in rows)


@pytest.mark.parametrize("command", ["ops", "train"])
def test_gpu_without_a_gpu_is_one_line_and_status_2(command, capsys):
    if backend.gpu_available():
        pytest.skip("a GPU is present: `bench --device gpu` would run")
    assert bench.main([command, "--device", "gpu"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: device 'gpu'") and captured.err.count("\n") == 1



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
