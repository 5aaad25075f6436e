"""Both cores for the memory-bound work: a small thread pool that splits the batch.

Matrix products already run on every core (BLAS is threaded); NumPy's element-wise ufuncs and
reductions do not — but they release the GIL while they loop, so two Python threads, each running the
same expressions on half of the batch, finish in about half the time of one. Ops use it like this::

    def part(lo, hi):                         # the op's maths on examples lo … hi−1
        xp.multiply(x[lo:hi], 2, out=y[lo:hi])
        return y[lo:hi].sum(axis=(0, 2, 3))   # a partial sum, if the op needs one
    partials = for_chunks(N, part, xp)        # one result per chunk, in chunk order
    total = sum_in_order(partials)

Three promises:

- **Bit-identical whatever the thread count.** The chunks depend on N alone (``chunks(N)``), never
  on the number of threads; a chunk's work does not depend on which thread runs it; partial results
  are returned — and summed by :func:`sum_in_order` — in chunk order. One thread, two or eight: the
  same bits (a test checks it).
- **A no-op on the GPU.** For CuPy (which launches its own parallel kernels), ``part(0, N)`` runs
  once in the calling thread. The tests' CuPy stand-in is NumPy underneath and takes NumPy's chunks,
  so that it reproduces NumPy's bits (tests/test_device.py compares them exactly).
- **No nesting.** A ``part`` that itself calls :func:`for_chunks` runs its chunks in its own thread.

Threads: ``$LCN_THREADS``, else ``$OMP_NUM_THREADS``, else the number of CPUs; :func:`set_threads`
changes it at run time (1 = run the chunks one after the other in the calling thread).

Matrix products go through the pool too (a chunk of the batch per call), so the first time an op runs
here on the CPU, NumPy's BLAS is asked for one thread per call (with threadpoolctl, when installed) —
from the first op on, whether or not that op uses the pool, because a BLAS product on two threads need
not give the same bits as on one (small work never starts the pool; see ``SERIAL``). Two reasons for
one thread: a BLAS call on two threads inside each of two pool threads would put four threads on two
cores; and on a
shared machine a multi-threaded BLAS call waits at its barrier for whichever thread the scheduler put
aside — measured with eight busy processes on two cores, 16 per-example 64×64·64×4096 products took
30–670 ms on two BLAS threads and 5 ms as chunks on the pool with one BLAS thread each.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy

MAX_CHUNKS = 8          # chunks per call at most: enough to balance two to eight threads, few enough
                        # that a chunk's arrays are large compared with the ~20 µs it costs to hand it out

SERIAL = 1 << 20       # work (elements passed over, or multiply-adds) below which the pool is not worth it:
                       # the same chunks then run one after another in the calling thread (see for_chunks)
BLOCK = 1 << 16        # cache_blocks: ≈ 256 KiB of float32 per block

_pool, _pool_size = None, 0
_blas_single = False
_threads = None
_local = threading.local()


def threads():
    """The number of threads :func:`for_chunks` uses on the CPU."""
    global _threads
    if _threads is None:
        env = os.environ.get("LCN_THREADS") or os.environ.get("OMP_NUM_THREADS")
        _threads = max(1, int(env)) if env else (os.cpu_count() or 1)
    return _threads


def set_threads(n):
    """Use ``n`` threads from now on (n ≥ 1); the pool is rebuilt on its next use."""
    global _threads
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    _threads = int(n)


def chunks(n, max_chunks=MAX_CHUNKS):
    """Fixed (lo, hi) pieces of range(n): min(n, max_chunks) pieces as equal as integers allow.

    They depend on ``n`` (and ``max_chunks``) only — that is what makes results independent of the
    thread count."""
    k = max(1, min(n, max_chunks))
    bounds = [n * i // k for i in range(k + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(k)]


def _blas_one_thread():
    """Once per process, before the first op's work: NumPy's BLAS on one thread per call."""
    global _blas_single
    if not _blas_single:
        _blas_single = True
        _single_threaded_blas()


def _single_threaded_blas():
    """One thread per call for NumPy's own BLAS (not PyTorch's or anyone else's); no-op without
    threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas" and "numpy" in lib.filepath.replace("\\", "/").split("/site-packages/")[-1]:
            lib.set_num_threads(1)


def _get_pool(n):
    global _pool, _pool_size
    if _pool is None or _pool_size != n:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool, _pool_size = ThreadPoolExecutor(n, thread_name_prefix="lcn_np"), n
    return _pool


def _run(part, lo, hi):
    _local.inside = True
    try:
        return part(lo, hi)
    finally:
        _local.inside = False


def for_chunks(n, part, xp=numpy, max_chunks=MAX_CHUNKS, work=None):
    """Run ``part(lo, hi)`` for every chunk of range(n); return the results in chunk order.

    ``xp`` is the array module of the op's arrays: CuPy gets one call, ``part(0, n)``; NumPy and the
    stand-in (NumPy underneath: the same chunks, the same bits) get the chunks.
    The parts must write to disjoint slices (or return what they computed) — they may run at once.
    ``max_chunks`` caps the pieces (fewer, larger chunks where each one runs many small operations).
    ``work``: about how many elements the op passes over (or multiply-adds it does). Below ``SERIAL``
    the same chunks run one after another in the calling thread — the same bits, without handing them
    out: on small arrays (the `lcn`'s thin layers) the hand-off costs more than the second core saves.
    Measured side by side (bench train, 64², 2 threads): the `lcn` step 123–147 → 90–103 ms with
    ``SERIAL = 2**20``, cn-dsc-dr unchanged (478–485 → 461–481 ms); an `lcn` recipe epoch on CASIA had run
    20 % faster on one thread than on two before.
    """
    if getattr(xp, "__name__", "").split(".")[0] == "cupy":
        return [part(0, n)]
    _blas_one_thread()
    pieces = chunks(n, max_chunks)
    n_threads = min(threads(), len(pieces))
    if n_threads == 1 or getattr(_local, "inside", False) or (work is not None and work < SERIAL):
        return [part(lo, hi) for lo, hi in pieces]
    pool = _get_pool(threads())
    futures = [pool.submit(_run, part, lo, hi) for lo, hi in pieces]
    return [f.result() for f in futures]


def sum_in_order(partials):
    """partials[0] + partials[1] + … , always in this order (so the bits never depend on timing)."""
    total = partials[0].copy() if hasattr(partials[0], "copy") else partials[0]
    for p in partials[1:]:
        total += p
    return total


def map_chunks(fn, *arrays, work=None):
    """``fn(*slices)`` on matching chunks (first axis) of equally long arrays, on the thread pool — the
    element-wise case of :func:`for_chunks`, e.g. ``map_chunks(lambda a, o: xp.sqrt(a, out=o), x, out)``.

    Element-wise work gives the same bits however it is cut, so arrays smaller than ``SERIAL`` elements
    (or 0-d) are one call: handing out chunks would cost more than it saves. ``work`` overrides the
    element count where each element costs many multiply-adds (a convolution's matrix products)."""
    from .backend import array_module
    if arrays[0].ndim == 0 or (arrays[0].size if work is None else work) < SERIAL:
        if array_module(arrays[0]) is numpy:
            _blas_one_thread()
        fn(*arrays)
        return
    for_chunks(arrays[0].shape[0], lambda lo, hi: fn(*(a[lo:hi] for a in arrays)), array_module(arrays[0]))


def cache_blocks(n, per_item):
    """Slices of range(n) — channels, usually — each covering about ``BLOCK`` elements when an item has
    ``per_item`` of them: small enough that a block of two or three arrays stays in a core's cache while
    an op passes over it several times. Depends on the shapes only, so results do not change with the
    number of threads."""
    step = max(1, BLOCK // max(1, per_item))
    return [slice(c, min(c + step, n)) for c in range(0, n, step)]


def join(pieces):
    """The results of :func:`for_chunks`' parts put back together along the batch axis: arrays are
    concatenated (one piece is returned as it is), dicts, lists and tuples of them joined entry by entry;
    anything else (a string, None) is taken from the first piece."""
    from .backend import array_module
    first = pieces[0]
    if isinstance(first, dict):
        return {k: join([p[k] for p in pieces]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(join(list(same)) for same in zip(*pieces))
    if first is None or isinstance(first, str) or len(pieces) == 1:
        return first
    return array_module(first).concatenate(pieces)


def batch_slice(tree, lo, hi):
    """Examples lo … hi−1 of every array in ``tree`` (a cache: dicts and lists are walked; strings and
    None kept) — the inverse of :func:`join`, for a backward pass that runs on chunks of the batch."""
    if isinstance(tree, dict):
        return {k: batch_slice(v, lo, hi) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(batch_slice(v, lo, hi) for v in tree)
    if tree is None or isinstance(tree, str):
        return tree
    return tree[lo:hi]
