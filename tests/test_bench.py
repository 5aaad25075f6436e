"""Benchmarks: both tables run on the strict CuPy stand-in — the GPU code path (inputs moved to the device,
synchronised timings) on a machine without a GPU — and ``--device gpu`` without a GPU says so in one line."""

import math

import pytest

from lcn_np import backend, bench


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
