"""The thread pool: fixed chunks, results in chunk order, a no-op off NumPy, and the same bits whatever
the number of threads — for single ops and for a whole training step."""

import threading
import types

import numpy
import pytest

from lcn_np import ops, parallel
from lcn_np.model import build
from lcn_np.optim import Adam


@pytest.fixture
def restore_threads(monkeypatch):
    """Restores the thread count, and sends every op through the pool, however small its arrays (the
    arrays here are small; by default work below parallel.SERIAL runs in the calling thread)."""
    monkeypatch.setattr(parallel, "SERIAL", 0)
    before = parallel.threads()
    yield
    parallel.set_threads(before)


def test_chunks_cover_the_range_and_depend_on_n_only():
    for n in [1, 2, 7, 16, 33]:
        pieces = parallel.chunks(n)
        assert pieces[0][0] == 0 and pieces[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
        assert len(pieces) == min(n, parallel.MAX_CHUNKS) and all(hi > lo for lo, hi in pieces)


def test_results_come_back_in_chunk_order(restore_threads):
    parallel.set_threads(3)
    assert parallel.for_chunks(16, lambda lo, hi: (lo, hi)) == parallel.chunks(16)


def test_cupy_gets_one_call_and_the_standin_numpys_chunks():
    from lcn_np import standin
    fake_cupy = types.SimpleNamespace(__name__="cupy")
    assert parallel.for_chunks(16, lambda lo, hi: (lo, hi), fake_cupy) == [(0, 16)]
    assert parallel.for_chunks(16, lambda lo, hi: (lo, hi), standin) == parallel.chunks(16)


def test_nested_calls_run_in_their_own_thread(restore_threads):
    parallel.set_threads(2)
    inner = parallel.for_chunks(4, lambda lo, hi: parallel.for_chunks(3, lambda a, b: b - a))
    assert inner == [[1, 1, 1]] * 4


def test_small_work_runs_its_chunks_in_the_calling_thread(restore_threads, monkeypatch):
    monkeypatch.setattr(parallel, "SERIAL", 1000)
    parallel.set_threads(2)
    where = lambda lo, hi: (lo, hi, threading.current_thread().name)     # noqa: E731
    small, large = parallel.for_chunks(8, where, work=999), parallel.for_chunks(8, where, work=1000)
    assert [s[:2] for s in small] == [s[:2] for s in large] == parallel.chunks(8)     # the same chunks, in order
    assert {s[2] for s in small} == {threading.current_thread().name}
    assert all(s[2].startswith("lcn_np") for s in large)


def test_small_and_pooled_work_give_the_same_bits(restore_threads, monkeypatch, rng):
    x = rng.standard_normal((13, 5, 9, 7)).astype(numpy.float32)
    w = rng.standard_normal((5, 1, 3, 3)).astype(numpy.float32)
    parallel.set_threads(2)
    results = []
    for serial in (0, 1 << 30):                    # every op through the pool, then none
        monkeypatch.setattr(parallel, "SERIAL", serial)
        out, cache = ops.depthwise_conv2d_forward(x, w, None, 1, 1)
        results.append([out] + list(ops.depthwise_conv2d_backward(x, cache)[:2]))
    for a, b in zip(*results):
        numpy.testing.assert_array_equal(a, b)


def test_set_threads_rejects_zero():
    with pytest.raises(ValueError, match="n must be at least 1"):
        parallel.set_threads(0)


def _step_result(variant, n_threads, seed=0):
    parallel.set_threads(n_threads)
    model = build(variant, 4, 16, seed=seed)
    opt = Adam(model.parameters, lr=1e-2, weight_decay=1e-2)
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((11, 3, 16, 16)).astype(numpy.float32)
    y = rng.integers(0, 4, 11)
    for _ in range(2):
        loss, cache = model.loss_forward(model.forward(x), y)
        model.backward(model.loss_backward(cache))
        opt.step()
    return float(loss), model.state_dict()


@pytest.mark.parametrize("variant", ["cn-dsc-dr", "cn"])
def test_training_steps_are_bit_identical_for_1_2_and_3_threads(restore_threads, variant):
    loss1, state1 = _step_result(variant, 1)
    for n in (2, 3):
        loss_n, state_n = _step_result(variant, n)
        assert loss_n == loss1, f"{n} threads: loss {loss_n!r} vs {loss1!r} on one thread"
        for k in state1:
            numpy.testing.assert_array_equal(state_n[k], state1[k], err_msg=f"{k} with {n} threads")


def test_reductions_are_bit_identical_across_thread_counts(restore_threads, rng):
    x = rng.standard_normal((13, 5, 9, 7)).astype(numpy.float32)
    w = rng.standard_normal((5, 1, 3, 3)).astype(numpy.float32)
    results = []
    for n in (1, 2, 4):
        parallel.set_threads(n)
        out, cache = ops.batchnorm2d_forward(x, numpy.ones(5, numpy.float32), numpy.zeros(5, numpy.float32),
                                             numpy.zeros(5, numpy.float32), numpy.ones(5, numpy.float32))
        dx, dg, db = ops.batchnorm2d_backward(out, cache)
        _, dcache = ops.depthwise_conv2d_forward(x, w, None, 1, 1)
        results.append([out, dx, dg, db] + list(ops.depthwise_conv2d_backward(x, dcache)[:2]))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            numpy.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("agreement", ["dot", "cosine"])
def test_routing_in_chunks_gives_the_bits_of_one_piece(restore_threads, rng, agreement):
    """Each example is routed on its own: the chunked routing on 1, 2 or 3 threads gives exactly what
    route / route_backward give on the whole batch at once."""
    route, route_backward = ops.routing.route, ops.routing.route_backward
    u_hat = (rng.standard_normal((11, 37, 5, 7)) * 0.3).astype(numpy.float32)
    dout = rng.standard_normal((11, 5, 7)).astype(numpy.float32)
    uT = numpy.ascontiguousarray(u_hat.transpose(0, 2, 1, 3))
    v_one, u_norm, steps = route(uT, 3, agreement)
    duT = numpy.empty_like(uT)
    route_backward(dout, {"uT": uT, "u_norm": u_norm, "steps": steps, "agreement": agreement}, duT)
    for n in (1, 2, 3):
        parallel.set_threads(n)
        v, cache = ops.routing_forward(u_hat, 3, agreement)
        numpy.testing.assert_array_equal(v, v_one, err_msg=f"v on {n} threads")
        numpy.testing.assert_array_equal(cache["steps"][0]["c"], steps[0]["c"], err_msg=f"c on {n} threads")
        du_hat = ops.routing_backward(dout, cache)
        numpy.testing.assert_array_equal(du_hat, duT.transpose(0, 2, 1, 3), err_msg=f"du_hat on {n} threads")
        # the same layout too: what reads du_hat next sums in an order that can depend on its strides
        assert du_hat.strides == duT.transpose(0, 2, 1, 3).strides and v.strides == v_one.strides


def test_the_spectrogram_in_chunks_gives_the_bits_of_one_piece(restore_threads, rng):
    """Forward and backward on chunks of the batch, 1, 2 or 3 threads, against the one-piece expressions;
    a single waveform (1-D) too."""
    padded_window, spectrum = ops.spectrogram.padded_window, ops.spectrogram.spectrum
    x = (rng.standard_normal((7, 2333)) * 0.1).astype(numpy.float32)
    win = padded_window("hamming", 400, 512).astype(numpy.float32)
    X, power = spectrum(x, win, 160)
    g = rng.standard_normal((7, 257, X.shape[1])).astype(numpy.float32)
    Z = g.transpose(0, 2, 1) * X
    Z[..., 0] *= 2
    Z[..., -1] *= 2
    dx = ops.spectrogram.overlap_add((512 * numpy.fft.irfft(Z, n=512, axis=-1) * win).astype(numpy.float32), 160, 2333)
    for n in (1, 2, 3):
        parallel.set_threads(n)
        P, cache = ops.power_spectrogram_forward(x)
        numpy.testing.assert_array_equal(P, power.transpose(0, 2, 1), err_msg=f"P on {n} threads")
        assert P.strides == power.transpose(0, 2, 1).strides                  # the layout the features read
        numpy.testing.assert_array_equal(cache["X"], X, err_msg=f"X on {n} threads")
        got = ops.power_spectrogram_backward(g, cache)
        assert got.dtype == numpy.float32
        numpy.testing.assert_array_equal(got, dx, err_msg=f"dx on {n} threads")
        P1, cache1 = ops.power_spectrogram_forward(x[3])
        numpy.testing.assert_array_equal(P1, P[3], err_msg=f"one waveform on {n} threads")
        numpy.testing.assert_array_equal(ops.power_spectrogram_backward(g[3], cache1), dx[3])


def test_join_and_batch_slice_undo_each_other(rng):
    tree = {"a": rng.standard_normal((7, 3)), "steps": [{"v": rng.standard_normal((7, 2)), "n": None}], "kind": "dot"}
    pieces = [parallel.batch_slice(tree, lo, hi) for lo, hi in parallel.chunks(7, 3)]
    joined = parallel.join(pieces)
    assert joined["kind"] == "dot" and joined["steps"][0]["n"] is None
    numpy.testing.assert_array_equal(joined["a"], tree["a"])
    numpy.testing.assert_array_equal(joined["steps"][0]["v"], tree["steps"][0]["v"])


STEP_SCRIPT = """
import sys, numpy
from lcn_np import parallel
from lcn_np.model import build
from lcn_np.optim import Adam
parallel.SERIAL = int(sys.argv[1])
if len(sys.argv) > 2:                      # what the code did before: BLAS left alone until the pool starts
    parallel._blas_one_thread = lambda: None
model = build("lcn", 6, (64, 64), seed=0, n_blocks=5)
opt = Adam(model.parameters, lr=1e-3, weight_decay=1e-2)
rng = numpy.random.default_rng(0)
x = rng.standard_normal((16, 3, 64, 64)).astype(numpy.float32)
loss, cache = model.loss_forward(model.forward(x), rng.integers(0, 6, 16))
model.backward(model.loss_backward(cache))
opt.step()
numpy.savez(sys.stdout.buffer, **model.state_dict())
"""


def _step_in_a_fresh_process(serial, *extra):
    import io
    import os
    import subprocess
    import sys
    env = dict(os.environ, OMP_NUM_THREADS="2", LCN_THREADS="2")
    out = subprocess.run([sys.executable, "-c", STEP_SCRIPT, str(serial), *extra], env=env, capture_output=True,
                         check=True).stdout
    return dict(numpy.load(io.BytesIO(out), allow_pickle=False))


def test_a_step_gives_the_same_bits_whether_or_not_the_pool_ever_starts():
    """NumPy's BLAS goes to one thread at the first op, not when the pool starts: a run whose ops are all
    below SERIAL (the pool never starts) must give the bits of one that uses the pool from the start."""
    never, always = _step_in_a_fresh_process(1 << 40), _step_in_a_fresh_process(0)
    for k in always:
        numpy.testing.assert_array_equal(never[k], always[k], err_msg=k)
