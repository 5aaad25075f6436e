"""Wrong: the labelled-class term's sign — m⁺ − |v| decreases as |v| grows, the minus is forgotten."""


def margin_loss_backward(cache):
    T, present, absent, lam, N = cache["T"], cache["present"], cache["absent"], cache["lam"], cache["N"]
    return (2 * T * present + 2 * lam * (1 - T) * absent) / N
