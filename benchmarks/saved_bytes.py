"""Memory a step keeps for its backward: the tensors autograd packs during the forward, counted
with torch.autograd.graph.saved_tensors_hooks."""
import torch

from common import reference_loss, twolayer_loss

LOSSES = {"twolayer": twolayer_loss, "eager": reference_loss}


def _storage(t):
    # A saved view keeps its whole storage alive, and two saved views of one storage cost it once.
    s = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
    return s.data_ptr(), s.nbytes()


def count(loss_fn, X, Y, params):
    leaves = [p.detach().clone().requires_grad_() for p in params]
    inputs = {_storage(t)[0] for t in (X, Y, *leaves)}
    storages = {}
    packed = {"tensors": 0, "packed_bytes": 0}

    def pack(t):
        ptr, nbytes = _storage(t)
        storages[ptr] = nbytes
        packed["tensors"] += 1
        packed["packed_bytes"] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        J = loss_fn(X, Y, *leaves)
    J.backward()  # the saved tensors must still serve the backward they were saved for
    return {
        **packed,
        "all_bytes": sum(storages.values()),
        "excluding_inputs_bytes": sum(n for ptr, n in storages.items() if ptr not in inputs),
    }


def compare(X, Y, params):
    counts = {name: count(fn, X, Y, params) for name, fn in LOSSES.items()}
    tl, ea = counts["twolayer"], counts["eager"]

    def ratio(key):
        return tl[key] / ea[key] if ea[key] else None

    return {**counts, "ratio_all": ratio("all_bytes"),
            "ratio_excluding_inputs": ratio("excluding_inputs_bytes")}
