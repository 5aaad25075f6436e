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
