"""Checkpoints: atomic, pickle-free, round trip, clear errors for damaged files."""

import numpy
import pytest

from lcn_np.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def test_round_trip(tmp_path):
    state = {"a.w": numpy.arange(6.0).reshape(2, 3)}
    save_checkpoint(tmp_path / "c.npz", state, {"t": numpy.array(3)}, {"classes": ["x", "y"], "epoch": 2})
    s, o, meta = load_checkpoint(tmp_path / "c.npz")
    assert numpy.array_equal(s["a.w"], state["a.w"]) and int(o["t"]) == 3 and meta["classes"] == ["x", "y"]
    assert not list(tmp_path.glob("*.tmp*"))                  # the temp file was renamed


def test_truncated_file_is_named(tmp_path):
    save_checkpoint(tmp_path / "c.npz", {"w": numpy.ones(1000)}, {}, {})
    data = (tmp_path / "c.npz").read_bytes()
    (tmp_path / "c.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match="c.npz: not a readable lcn_np checkpoint"):
        load_checkpoint(tmp_path / "c.npz")


def test_a_failed_write_keeps_the_old_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "c.npz", {"w": numpy.ones(3)}, {}, {"v": 1})
    with pytest.raises(TypeError):
        save_checkpoint(tmp_path / "c.npz", {"w": numpy.ones(3)}, {}, {"v": object()})
    assert load_checkpoint(tmp_path / "c.npz")[2]["v"] == 1 and not list(tmp_path.glob("*.tmp*"))


def test_an_older_format_is_refused_with_a_reason(tmp_path):
    """lcn_np 0.1 named the capsule weights "W": its checkpoints (no "format" in meta) are refused, not misread."""
    import json
    numpy.savez(tmp_path / "old.npz", **{"model/digit.W": numpy.ones(3), "meta": numpy.array(json.dumps({"v": 1}))})
    with pytest.raises(CheckpointError, match="old.npz: checkpoint format 1.*written by lcn_np 0.1.*CHANGELOG"):
        load_checkpoint(tmp_path / "old.npz")
