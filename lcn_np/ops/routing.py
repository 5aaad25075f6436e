"""Dynamic routing between capsules (Sabour et al. 2017, procedure 1), with dot or cosine agreement.

    logits = 0                                  (N, I, J); Sabour et al. call them b
    for r = 1 … R:
        c = softmax_j(logits)                        over the OUTPUT capsules j (axis 2): each input capsule i
                                                shares its vote among the outputs; a softmax over i is the
                                                classic bug
        s_j = Σ_i c_ij û_j|i                    (N, J, D)
        v_j = squash(s_j)
        if r < R:  logits_ij += a(û_j|i, v_j)

    a = û·v  ("dot", Sabour et al.)   or   a = û·v / (sqrt(|û|²+ε)·sqrt(|v|²+ε))  ("cosine", the LCN paper)

Cosine agreement is bounded in [−1, 1], so the logits cannot run away when predictions are long.

Backward: the exact gradient of the whole unrolled computation. Walking the iterations in reverse,
the gradient of the logits is carried from each iteration to the one before (they are a running sum),
and at every iteration it passes through the softmax (dc → dlogits = c·(dc − Σ_j c·dc)), the weighted sum (ds → dc, dû)
and squash (dv → ds); the agreement adds to dû and to the dv of its iteration. Nothing is detached.

Internally the arrays are kept as (N, J, I, ·) so that the sums over i are batched matrix products.
No example's routing looks at another's: :func:`route` and :func:`route_backward` are the loops above on
any slice of the batch, and the public pair runs them on chunks of it, in parallel on the CPU.
"""

from ..backend import array_module
from ..parallel import batch_slice, for_chunks, join
from .capsules import EPS, dot_last, squash_backward, squash_forward
from .checks import expect_ndim

AGREEMENTS = ("dot", "cosine")


def softmax(logits, axis):
    """exp(logits) normalised to sum 1 along ``axis`` (the maximum is subtracted first: no overflow)."""
    xp = array_module(logits)
    e = xp.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def routing_forward(u_hat, iterations=3, agreement="dot"):
    """u_hat: (N, I, J, D) predictions → v: (N, J, D) output capsules.

    ``routing_coupling(cache)`` gives the last iteration's coupling coefficients, (N, I, J).
    Every example is routed on its own, so the batch is cut into chunks for the thread pool of
    :mod:`lcn_np.parallel` (:func:`route` on each, then their results joined): the same bits as one piece.
    """
    expect_ndim("u_hat", u_hat, 4, "(N, I, J, D)")
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an integer ≥ 1, got {iterations!r}")
    if agreement not in AGREEMENTS:
        raise ValueError(f"agreement must be one of {AGREEMENTS}, got {agreement!r}")
    xp = array_module(u_hat)
    N, I, J, D = u_hat.shape
    uT = xp.empty((N, J, I, D), dtype=u_hat.dtype)

    def part(lo, hi):
        uT[lo:hi] = u_hat[lo:hi].transpose(0, 2, 1, 3)
        return route(uT[lo:hi], iterations, agreement)
    v, u_norm, steps = join(for_chunks(N, part, xp, work=uT.size * (2 * iterations + 1)))
    cache = {"uT": uT, "u_norm": u_norm, "steps": steps, "agreement": agreement}
    return v, cache


def route(uT, iterations, agreement):
    """The routing loop on uT: (N, J, I, D) → (v (N, J, D), u_norm (N, J, I) or None, steps)."""
    xp = array_module(uT)
    N, J, I, D = uT.shape
    u_norm = (dot_last(uT, uT)[..., 0] + EPS) ** 0.5 if agreement == "cosine" else None   # (N, J, I)
    logits = xp.zeros((N, J, I), dtype=uT.dtype)
    steps = []
    for r in range(iterations):
        c = softmax(logits, axis=1)                                  # over j
        s = (c[:, :, None, :] @ uT)[:, :, 0, :]                 # (N, J, D) = Σ_i c_ij û_j|i
        v, sq_cache = squash_forward(s)
        step = {"c": c, "sq": sq_cache, "v": v}
        if r < iterations - 1:
            dot = (uT @ v[..., None])[..., 0]                   # (N, J, I) = û·v
            if agreement == "dot":
                logits = logits + dot
            else:
                v_norm = (dot_last(v, v)[..., 0] + EPS) ** 0.5    # (N, J)
                cos = dot / (u_norm * v_norm[..., None])
                step.update(v_norm=v_norm, cos=cos)
                logits = logits + cos
        steps.append(step)
    return v, u_norm, steps


def routing_coupling(cache):
    """The coupling coefficients c of the last routing iteration, (N, I, J): row i sums to 1 over j."""
    return cache["steps"][-1]["c"].transpose(0, 2, 1)


def routing_backward(dout, cache):
    """dout: (N, J, D) → du_hat: (N, I, J, D), through every routing iteration (:func:`route_backward`
    on chunks of the batch, as in the forward)."""
    xp = array_module(dout)
    uT = cache["uT"]
    duT = xp.empty_like(uT)

    def part(lo, hi):
        route_backward(dout[lo:hi], batch_slice(cache, lo, hi), duT[lo:hi])
    for_chunks(uT.shape[0], part, xp, work=uT.size * 4 * len(cache["steps"]))
    return duT.transpose(0, 2, 1, 3)


def route_backward(dout, cache, duT):
    """The gradient of :func:`route`'s loop: dout (N, J, D) → duT (N, J, I, D).

    It writes into ``duT`` rather than returning a new array: :func:`routing_backward` hands each chunk
    its slice of the whole batch's gradient, so the chunks' results need no copying together."""
    xp = array_module(dout)
    uT, steps, agreement = cache["uT"], cache["steps"], cache["agreement"]
    duT[...] = 0
    dlogits = xp.zeros(uT.shape[:3], dtype=uT.dtype)            # gradient of the logits after step r
    for r in reversed(range(len(steps))):
        step = steps[r]
        v = step["v"]
        dv = dout if r == len(steps) - 1 else xp.zeros_like(v)
        if r < len(steps) - 1:                                  # logits_{r+1} = logits_r + a(û, v_r)
            if agreement == "dot":
                da_dot = dlogits
            else:
                v_norm, cos, u_norm = step["v_norm"], step["cos"], cache["u_norm"]
                da_dot = dlogits / (u_norm * v_norm[..., None])      # through û·v
                g = dlogits * cos
                duT -= (g / u_norm ** 2)[..., None] * uT        # through |û|
                dv = dv - (g.sum(axis=2) / v_norm ** 2)[..., None] * v   # through |v|
            duT += da_dot[..., None] * v[:, :, None, :]
            dv = dv + (da_dot[:, :, None, :] @ uT)[:, :, 0, :]
        ds = squash_backward(dv, step["sq"])                    # (N, J, D)
        c = step["c"]
        dc = (uT @ ds[..., None])[..., 0]                       # (N, J, I)
        duT += c[..., None] * ds[:, :, None, :]
        dlogits = dlogits + c * (dc - (c * dc).sum(axis=1, keepdims=True))   # softmax over j, plus the carried dlogits
    return duT
