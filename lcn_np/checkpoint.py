"""Checkpoints: one .npz holding weights, optimizer state and — as JSON text, never pickled — everything
needed to use the model later: variant and build settings, class names, feature settings, training
arguments and progress. Written atomically (temp file + rename), read with ``allow_pickle=False``.
"""

import json
import os
import pathlib
import tempfile
import zipfile

import numpy


class CheckpointError(ValueError):
    pass


def save_checkpoint(path, model_state, optim_state, meta):
    """Write ``path`` atomically. ``meta`` must be JSON-serialisable."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"model/{k}": v for k, v in model_state.items()}
    arrays.update({f"optim/{k}": v for k, v in (optim_state or {}).items()})
    arrays["meta"] = numpy.array(json.dumps(meta))
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    try:
        with os.fdopen(fd, "wb") as f:
            numpy.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path):
    """Returns ``(model_state, optim_state, meta)``; a missing or damaged file is a clear error."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with numpy.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as exc:
        raise CheckpointError(f"{path}: not a readable lcn_np checkpoint ({exc}); was it truncated?") from None
    model = {k[6:]: v for k, v in arrays.items() if k.startswith("model/")}
    optim = {k[6:]: v for k, v in arrays.items() if k.startswith("optim/")}
    return model, optim, meta
