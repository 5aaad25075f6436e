"""Exercise: the backward pass of dynamic routing with cosine agreement.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/routing_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.routing_forward(u_hat, iterations, agreement)) keeps its arrays in
the layout (N, J, I, ·): J output capsules, I input capsules.

    b = 0                                   (N, J, I)
    for r = 1 … R:
        c = softmax over j (axis 1) of b
        s = Σ_i c·û                         (N, J, D)
        v = squash(s)
        if r < R:  b += cos(û, v) = û·v / (|û|_ε · |v|_ε),   |a|_ε = sqrt(|a|² + ε)

cache = {"uT": û as (N, J, I, D), "u_norm": |û|_ε (N, J, I), "agreement": "dot" or "cosine",
"steps": one dict per iteration with "c" (N, J, I), "sq" (squash's cache), "v" (N, J, D) and, for every
iteration but the last with cosine agreement, "v_norm" (N, J) and "cos" (N, J, I)}.

Your task: given dout = ∂L/∂v of the last iteration (N, J, D), return du_hat of shape (N, I, J, D) — note
the layout of the input, not of uT. The gradient must flow through every iteration: walk them in
reverse, carry the gradient of b backwards, differentiate the softmax (over j!), the weighted sum,
squash (use lcn_np.ops.squash_backward) and the cosine (through both norms). Handle "dot" too.
"""

from lcn_np.ops import squash_backward  # noqa: F401
from lcn_np.ops import routing_forward  # noqa: F401


def routing_backward(dout, cache):
    uT, steps, agreement = cache["uT"], cache["steps"], cache["agreement"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write routing_backward")
    # ---- END OF YOUR CODE ----
