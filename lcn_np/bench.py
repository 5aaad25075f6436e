"""Benchmarks — ``python -m lcn_np.bench ops`` and ``python -m lcn_np.bench train``.

Both put lcn_np beside PyTorch (a yardstick only, never a dependency: skipped when not importable)
with the same number of threads, in one process, timing them **interleaved** — ours, torch, ours,
torch … — and reporting medians, so that a load that comes and goes on a shared machine slows both.

``ops``: forward+backward time of each op at the shapes of the paper's front end for image side 128,
batch 16, float32; its GFLOP/s, the machine's own float32 matmul rate measured in the same run (and the
pointwise convolution's share of it), the same op in PyTorch and the ratio ours / PyTorch.

``train``: milliseconds per training step (:func:`our_step` / :func:`torch_step`: forward, loss — the
margin loss, cross-entropy for ``cnn`` —, backward, AdamW with lr 1e-3 and weight decay 1e-2) at batch
16 for each variant and image size, samples/s, and the memory a step adds: peak RSS of a fresh
subprocess after two steps minus its RSS before the first (``python -m lcn_np.bench rss …``, measured
the same way for both; ``tracemalloc`` cannot see PyTorch's allocator). On a GPU it is the device memory
a step adds instead: CuPy's memory pool for ours, ``torch.cuda.max_memory_allocated`` for PyTorch.

``--device gpu`` times the same tables on CuPy (inputs moved with ``backend.to_device``, the device
synchronised before and after every timed run, since CuPy returns before its kernels finish), with
PyTorch on CUDA as the yardstick when it is importable with CUDA; without a GPU it says so in one line and
exits with status 2. ``--device standin`` runs the tables on the tests' strict CuPy stand-in (no
yardstick: it checks the GPU code path, its times mean nothing).
"""

import argparse
import contextlib
import os
import subprocess
import sys
import time

import numpy

from . import backend, ops
from .backend import array_module, to_device, to_numpy


def median_time(fn, repeats=5, warmup=1, sync=None):
    """Median seconds of ``fn()``; ``sync()`` (waiting for a GPU) runs before and after every timed call."""
    return interleaved_medians([fn], repeats, warmup, [sync])[0]


def interleaved_medians(fns, repeats=5, warmup=1, syncs=None):
    """Median time of each function, timed in turn — fns[0], fns[1], fns[0], fns[1] … — so that a load
    that comes and goes on a shared machine falls on all of them alike. ``None`` entries give nan.
    ``syncs[i]()`` (waiting for fns[i]'s GPU; None: nothing to wait for) runs before and after each timed call."""
    syncs = [s or (lambda: None) for s in (syncs or [None] * len(fns))]
    live = [(f, s) for f, s in zip(fns, syncs) if f is not None]
    for f, _ in live:
        for _ in range(warmup):
            f()
    times = {id(f): [] for f, _ in live}
    for _ in range(repeats):
        for f, sync in live:
            sync()
            t = time.perf_counter()
            f()
            sync()
            times[id(f)].append(time.perf_counter() - t)
    return [float(numpy.median(times[id(f)])) if f is not None else float("nan") for f in fns]


def device_sync():
    """The synchronisation of the current device (a no-op on the CPU)."""
    xp = backend.device_module()
    return lambda: backend.synchronize(xp)


def import_torch(n_threads):
    """(torch, its device name) for the yardstick on the current device, or (None, reason)."""
    device = backend.get_device()
    if device == "standin":
        return None, "no yardstick on the stand-in"
    try:
        import torch
    except ImportError:
        return None, "PyTorch not importable: no comparison"
    torch.set_num_threads(n_threads)
    if device == "gpu":
        if not torch.cuda.is_available():
            return None, "PyTorch has no CUDA here: no comparison"
        return torch, "cuda"
    return torch, "cpu"


def torch_sync(torch, where):
    return torch.cuda.synchronize if where == "cuda" else None


def threads():
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def matmul_gflops(n=1024, repeats=5):
    """The machine's float32 n³ matmul rate, NumPy's BLAS on ``threads()`` threads (lcn_np's pool runs
    it on one thread per call; this asks for all of them while it measures)."""
    a = to_device(numpy.random.default_rng(0).standard_normal((n, n)).astype(numpy.float32))
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(threads(), user_api="blas")
    except ImportError:
        limits = contextlib.nullcontext()
    with limits:
        return 2 * n ** 3 / median_time(lambda: a @ a, repeats, sync=device_sync()) / 1e9


def op_cases(rng, N=16):
    """(name, our fwd+bwd callable, torch builder, FLOPs of fwd+bwd) at the paper's shapes (S = 128, N = 16),
    the inputs on the current device."""
    f32 = lambda *s: to_device(rng.standard_normal(s).astype(numpy.float32))   # noqa: E731
    x_dw, w_dw = f32(N, 64, 128, 128), f32(64, 1, 3, 3)
    x_pw, w_pw = f32(N, 64, 64, 64), f32(128, 64, 1, 1)
    x_cv, w_cv = f32(N, 64, 32, 32), f32(64, 64, 3, 3)
    x_bn = f32(N, 64, 128, 128)
    g, b = to_device(numpy.ones(64, numpy.float32)), to_device(numpy.zeros(64, numpy.float32))
    u_hat = f32(N, 4608, 6, 16) * 0.05
    u, W = f32(N, 4608, 8) * 0.3, f32(4608, 6, 16, 8) * 0.1
    wave = f32(N, 32000) * 0.1

    def pair(fwd, bwd, *args, **kw):
        def run():
            out, cache = fwd(*args, **kw)
            bwd(array_module(out).ones_like(out), cache)
        return run

    def bn_run():
        out, cache = ops.batchnorm2d_forward(x_bn, g, b, g * 0, g * 1)
        ops.batchnorm2d_backward(array_module(out).ones_like(out), cache)

    cases = [
        ("depthwise 3×3 (16,64,128,128)", pair(ops.depthwise_conv2d_forward, ops.depthwise_conv2d_backward, x_dw, w_dw, None, 1, 1),
         lambda t, F: F.conv2d(t[0], t[1], padding=1, groups=64), [x_dw, w_dw], 3 * 2 * x_dw.size * 9),
        ("pointwise 64→128 (16,64,64,64)", pair(ops.pointwise_conv2d_forward, ops.pointwise_conv2d_backward, x_pw, w_pw),
         lambda t, F: F.conv2d(t[0], t[1]), [x_pw, w_pw], 3 * 2 * N * 64 * 64 * 64 * 128),
        ("conv 3×3 64→64 (16,64,32,32)", pair(ops.conv2d_forward, ops.conv2d_backward, x_cv, w_cv, None, 1, 1),
         lambda t, F: F.conv2d(t[0], t[1], padding=1), [x_cv, w_cv], 3 * 2 * N * 32 * 32 * 64 * 64 * 9),
        ("max-pool 2×2 (16,64,128,128)", pair(ops.maxpool2d_forward, ops.maxpool2d_backward, x_dw),
         lambda t, F: F.max_pool2d(t[0], 2), [x_dw], 0),
        ("batchnorm (16,64,128,128)", bn_run,
         lambda t, F: F.batch_norm(t[0], None, None, training=True), [x_bn], 0),
        ("capsule predict 4608×6×16×8", pair(ops.capsule_predict_forward, ops.capsule_predict_backward, u, W),
         lambda t, F: __import__("torch").einsum("ijdk,nik->nijd", t[1], t[0]), [u, W], 3 * 2 * N * 4608 * 6 * 16 * 8),
        ("squash (16,4608,8)", pair(ops.squash_forward, ops.squash_backward, u),
         lambda t, F: torch_squash(t[0]), [u], 0),
        ("routing dot, 3 it. 4608×6×16", pair(ops.routing_forward, ops.routing_backward, u_hat, 3, "dot"),
         lambda t, F: torch_routing(t[0], 3, "dot"), [u_hat], 0),
        ("routing cosine, 3 it. 4608×6×16", pair(ops.routing_forward, ops.routing_backward, u_hat, 3, "cosine"),
         lambda t, F: torch_routing(t[0], 3, "cosine"), [u_hat], 0),
        ("power spectrogram (16, 32000)", pair(ops.power_spectrogram_forward, ops.power_spectrogram_backward, wave),
         lambda t, F: torch_spectrogram(t[0]), [wave], 0),
    ]
    return cases


# ------------------------------------------------------------------------------------------------------
# PyTorch twins (yardstick only)
def torch_squash(s, eps=1e-7):
    n = (s * s).sum(-1, keepdim=True)
    return s * n / ((1 + n) * (n + eps).sqrt())


def torch_routing(u_hat, iterations, agreement, eps=1e-7):
    import torch
    b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype, device=u_hat.device)
    for r in range(iterations):
        c = torch.softmax(b, dim=2)
        v = torch_squash((c[..., None] * u_hat).sum(1))
        if r < iterations - 1:
            a = (u_hat * v[:, None]).sum(-1)
            if agreement == "cosine":
                a = a / (((u_hat ** 2).sum(-1) + eps).sqrt() * ((v ** 2).sum(-1) + eps).sqrt()[:, None])
            b = b + a
    return v


def torch_spectrogram(x):
    import torch
    win = torch.zeros(512, device=x.device)
    win[56:456] = torch.hamming_window(400, periodic=True, device=x.device)
    return torch.stft(x, 512, 160, window=win, center=False, return_complex=True).abs() ** 2


def torch_run(build, arrays, where="cpu"):
    """A function running the PyTorch twin of an op forward and backward on copies of ``arrays`` on ``where``."""
    import torch
    F = torch.nn.functional
    ts = [torch.from_numpy(to_numpy(a)).to(where).requires_grad_(True) for a in arrays]

    def run():
        out = build(ts, F)
        out.backward(torch.ones_like(out))
    return run


def bench_ops(args):
    n_threads = threads()
    rng = numpy.random.default_rng(0)
    torch, where = import_torch(n_threads)
    mm = matmul_gflops()
    print(f"lcn_np ops benchmark: forward+backward, float32, median of {args.repeats} interleaved, "
          f"{n_threads} thread(s), device {backend.get_device()}")
    print(f"machine float32 matmul (1024³): {mm:.1f} GFLOP/s" + ("" if torch else f"   ({where})"))
    print(f"{'op':34s} {'ours ms':>9s} {'GFLOP/s':>8s} {'% matmul':>8s} {'torch ms':>9s} {'ours/torch':>10s}")
    for name, ours, tbuild, arrays, flops in op_cases(rng, args.batch):
        t_ours, t_torch = interleaved_medians([ours, torch_run(tbuild, arrays, where) if torch else None],
                                              args.repeats, syncs=[device_sync(), torch and torch_sync(torch, where)])
        rate = f"{flops / t_ours / 1e9:8.1f} {100 * flops / t_ours / 1e9 / mm:7.0f}%" if flops else f"{'':>8s} {'':>8s}"
        print(f"{name:34s} {1e3 * t_ours:9.1f} {rate} {1e3 * t_torch:9.1f} {t_ours / t_torch:10.2f}", flush=True)


# ------------------------------------------------------------------------------------------------------
def torch_network(variant, image_size, n_classes=6):
    """The same network in PyTorch (random init): (module holding every parameter, function x → scores)."""
    import torch
    nn = torch.nn

    def dsc(cin, cout):
        return [nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    def conv(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    if variant == "cnn":                        # the paper's CNN (lcn_np.model.paper_cnn_frontend)
        layers, cin, side = [], 3, image_size
        for width in (64, 128, 256, 512):
            layers += [*conv(cin, width), nn.MaxPool2d(2)]
            cin, side = width, side // 2
        net = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.5), nn.Linear(cin * side * side, n_classes))
        return net, lambda x: net(x)
    if variant in ("lcn", "cn-dsc-pm"):
        front, c_out, grid = torch_mobilenet_frontend(image_size)
    else:
        block = conv if variant in ("cn", "cnn-gap") else dsc
        front = nn.Sequential(*block(3, 64), *block(64, 64), nn.MaxPool2d(2), *block(64, 128), *block(128, 128),
                              nn.MaxPool2d(2))
        c_out, grid = 128, image_size // 4
    if variant == "cnn-gap":
        net = nn.Sequential(front, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, n_classes))
        return net, lambda x: net(x)
    from .model import primary_capsule_grid
    k, n_grid = primary_capsule_grid(grid)
    primary = (nn.Sequential(nn.Conv2d(c_out, 256, k, 2)) if variant == "cn" else
               nn.Sequential(nn.Conv2d(c_out, c_out, k, 2, groups=c_out, bias=False), nn.Conv2d(c_out, 256, 1)))
    W = nn.Parameter(torch.randn(32 * n_grid * n_grid, n_classes, 16, 8) * 0.01)
    agreement = "cosine" if variant in ("cn-dsc-dr", "lcn") else "dot"
    mods = nn.ModuleList([front, primary])

    def forward(x):
        y = primary(front(x))
        N = y.shape[0]
        u = y.reshape(N, 32, 8, n_grid, n_grid).permute(0, 1, 3, 4, 2).reshape(N, -1, 8)
        u_hat = torch.einsum("ijdk,nik->nijd", mods.W, torch_squash(u))   # mods.W: follows .to(device)
        v = torch_routing(u_hat, 3, agreement)
        return ((v ** 2).sum(-1) + 1e-7).sqrt()
    mods.W = W
    return mods, forward


def torch_mobilenet_frontend(image_size, alpha=0.25):
    """PyTorch twin of :func:`lcn_np.mobilenet.mobilenet_frontend`: the same blocks, strides, paddings
    (stride 2: one zero row and column at the bottom and right) and BatchNorm ε = 1e-3."""
    import torch
    from .mobilenet import BLOCKS, default_blocks
    nn = torch.nn
    K = default_blocks(image_size)
    c = int(32 * alpha)
    layers = [nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, c, 3, 2, bias=False), nn.BatchNorm2d(c, eps=1e-3), nn.ReLU6()]
    for cout, stride in BLOCKS[:K]:
        cout = int(cout * alpha)
        layers += ([nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(c, c, 3, 2, groups=c, bias=False)] if stride == 2 else
                   [nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)])
        layers += [nn.BatchNorm2d(c, eps=1e-3), nn.ReLU6(),
                   nn.Conv2d(c, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU6()]
        c = cout
    front = nn.Sequential(*layers)
    grid = front(torch.zeros(1, 3, image_size, image_size)).shape[2]
    return front, c, grid


def torch_margin_loss(lengths, labels, m_pos=0.9, m_neg=0.1, lam=0.5):
    """:func:`lcn_np.ops.margin_loss_forward` in PyTorch (the twin's loss, so both steps do the same work)."""
    import torch
    T = torch.nn.functional.one_hot(labels, lengths.shape[1]).to(lengths.dtype)
    present, absent = (m_pos - lengths).clamp(min=0), (lengths - m_neg).clamp(min=0)
    return (T * present ** 2 + lam * (1 - T) * absent ** 2).sum() / lengths.shape[0]


# ------------------------------------------------------------------------------------------------------
# One training step, defined once for each side
def our_step(variant, size, batch_size, seed=0, input_grad=False):
    """A function running one lcn_np training step: forward, loss, backward, AdamW (lr 1e-3, decay 1e-2).
    ``input_grad=True`` also computes the image's gradient, as training did before it learned to skip it."""
    from .model import build
    from .optim import Adam
    rng = numpy.random.default_rng(seed)
    model = build(variant, 6, size, seed=seed)
    opt = Adam(model.parameters, lr=1e-3, weight_decay=1e-2)
    x = to_device(rng.standard_normal((batch_size, 3, size, size)).astype(numpy.float32))
    y = to_device(rng.integers(0, 6, batch_size))

    def step():
        loss, cache = model.loss_forward(model.forward(x), y)
        model.backward(model.loss_backward(cache), input_grad=input_grad)
        opt.step()
    return step


def torch_step(variant, size, batch_size, seed=0, where="cpu"):
    """The same step for the PyTorch twin on ``where`` ("cpu", "cuda"): forward, the same loss, backward,
    ``torch.optim.AdamW``."""
    import torch
    from .model import CLASSIFIERS
    rng = numpy.random.default_rng(seed)
    net, forward = torch_network(variant, size)
    net.to(where)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    x = torch.from_numpy(rng.standard_normal((batch_size, 3, size, size)).astype(numpy.float32)).to(where)
    y = torch.from_numpy(rng.integers(0, 6, batch_size)).to(where)
    loss_fn = torch.nn.functional.cross_entropy if variant in CLASSIFIERS else torch_margin_loss

    def step():
        loss = loss_fn(forward(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _status_mib(field):
    """VmRSS (now) or VmHWM (peak) of this process from /proc, in MiB. VmHWM belongs to the process's own
    memory map — unlike ``ru_maxrss``, which Linux carries over from the parent through fork and exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(f"{field} not in /proc/self/status")


def memory_meter(torch=None, where="cpu"):
    """(now, peak) → MiB, for the memory a step adds. On the CPU (and the stand-in): the process's RSS and
    its high-water mark; on a GPU the device memory: CuPy's memory pool for ours (emptied first, so that
    what it holds after the steps is their peak), PyTorch's CUDA allocator for the twin."""
    if torch is not None and where == "cuda":
        torch.cuda.reset_peak_memory_stats()
        return (lambda: torch.cuda.memory_allocated() / 2 ** 20,
                lambda: torch.cuda.max_memory_allocated() / 2 ** 20)
    xp = backend.device_module()
    if torch is None and xp.__name__ == "cupy":
        pool = xp.get_default_memory_pool()
        backend.synchronize(xp)
        pool.free_all_blocks()
        return lambda: pool.used_bytes() / 2 ** 20, lambda: pool.total_bytes() / 2 ** 20
    return lambda: _status_mib("VmRSS"), lambda: _status_mib("VmHWM")


def bench_rss(args):
    """Run in a fresh process: memory a step adds = peak after two steps − memory before the first."""
    if args.side == "torch":
        torch, where = import_torch(threads())
        if torch is None:
            print(f"error: {where}", file=sys.stderr)
            return 2
        step = torch_step(args.variant, args.size, args.batch_size, where=where)
    else:
        torch, where = None, "cpu"
        step = our_step(args.variant, args.size, args.batch_size)
    now, peak = memory_meter(torch, where)
    before = now()
    step()
    step()
    print(f"{peak() - before:.1f}")
    return 0


def step_memory(side, variant, size, batch_size):
    """MiB a training step adds, from :func:`bench_rss` in a subprocess on the current device (nan where
    it cannot run)."""
    if not os.path.exists("/proc/self/status"):
        return float("nan")
    cmd = [sys.executable, "-m", "lcn_np.bench", "rss", side, variant, str(size), "--batch-size", str(batch_size),
           "--device", backend.get_device()]
    done = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def bench_train(args):
    torch, where = import_torch(threads())
    what = "device memory" if backend.get_device() == "gpu" else "peak RSS"
    print(f"lcn_np training-step benchmark: batch {args.batch_size}, float32, median of {args.repeats} interleaved, "
          f"{threads()} thread(s), device {backend.get_device()}; MiB = {what} a step adds (subprocess)"
          + ("" if torch else f"   ({where})"))
    print(f"{'variant':10s} {'size':>5s} {'ms/step':>9s} {'samples/s':>10s} {'torch ms':>9s} {'ours/torch':>10s} "
          f"{'MiB':>7s} {'torch MiB':>9s}")
    for size in args.sizes:
        for variant in args.variants:
            twin = torch is not None
            theirs = torch_step(variant, size, args.batch_size, where=where) if twin else None
            t, t_torch = interleaved_medians([our_step(variant, size, args.batch_size), theirs], args.repeats,
                                             syncs=[device_sync(), twin and torch_sync(torch, where)])
            mem = step_memory("ours", variant, size, args.batch_size) if args.memory else float("nan")
            mem_t = (step_memory("torch", variant, size, args.batch_size) if args.memory and twin
                     else float("nan"))
            print(f"{variant:10s} {size:5d} {1e3 * t:9.0f} {args.batch_size / t:10.1f} {1e3 * t_torch:9.0f} "
                  f"{t / t_torch:10.2f} {mem:7.0f} {mem_t:9.0f}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m lcn_np.bench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    o = sub.add_parser("ops", help="per-op forward+backward times at the paper's shapes")
    o.add_argument("--repeats", type=int, default=5)
    o.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)      # tests: small inputs
    t = sub.add_parser("train", help="training-step times per variant and image size")
    t.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    t.add_argument("--variants", nargs="+", default=["cnn", "cn", "cn-dsc", "cn-dsc-dr", "lcn"])
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--repeats", type=int, default=5)
    t.add_argument("--no-memory", dest="memory", action="store_false", help="skip the peak-RSS subprocesses")
    r = sub.add_parser("rss", help="(used by train) MiB one step adds, in this process")
    r.add_argument("side", choices=["ours", "torch"])
    r.add_argument("variant")
    r.add_argument("size", type=int)
    r.add_argument("--batch-size", type=int, default=16)
    for command in (o, t, r):
        command.add_argument("--device", default="cpu", choices=["cpu", "gpu", "standin"],
                             help="cpu (NumPy), gpu (CuPy); standin: the tests' strict CuPy stand-in")
    args = p.parse_args(argv)
    try:
        backend.set_device(args.device)
    except backend.DeviceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return {"ops": bench_ops, "train": bench_train, "rss": bench_rss}[args.what](args) or 0


if __name__ == "__main__":
    sys.exit(main())
