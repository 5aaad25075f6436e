"""Wrong: written for cosine agreement only — "handle dot too" was skipped."""
import numpy as np

from lcn_np.ops import squash_backward

EPS = 1e-7


def routing_backward(dout, cache):
    uT, steps, agreement = cache["uT"], cache["steps"], cache["agreement"]
    du = np.zeros_like(uT)                          # (N, J, I, D)
    db = np.zeros(uT.shape[:3], dtype=uT.dtype)     # gradient of the logits after the current iteration
    for r in range(len(steps) - 1, -1, -1):
        st = steps[r]
        v = st["v"]
        dv = dout.copy() if r == len(steps) - 1 else np.zeros_like(v)
        if r < len(steps) - 1:
            if True:                                # b += û·v / (|û|·|v|)
                un, vn, cos = cache["u_norm"], st["v_norm"], st["cos"]
                k = db / (un * vn[..., None])
                du += k[..., None] * v[:, :, None, :] - (db * cos / un ** 2)[..., None] * uT
                dv += np.einsum("nji,njid->njd", k, uT) - ((db * cos).sum(axis=2) / vn ** 2)[..., None] * v
        ds = squash_backward(dv, st["sq"])
        c = st["c"]
        du += c[..., None] * ds[:, :, None, :]
        dc = np.einsum("njid,njd->nji", uT, ds)
        db = db + c * (dc - (c * dc).sum(axis=1, keepdims=True))
    return du.transpose(0, 2, 1, 3)
