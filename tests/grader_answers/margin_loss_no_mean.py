"""Wrong: forgets the 1/N of the batch mean."""


def margin_loss_backward(cache):
    T, present, absent, lam = cache["T"], cache["present"], cache["absent"], cache["lam"]
    return -2 * T * present + 2 * lam * (1 - T) * absent
