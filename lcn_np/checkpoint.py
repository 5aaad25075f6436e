"""Files on disk, written safely. Checkpoints: one .npz holding weights, optimizer state and — as JSON
text, never pickled — everything needed to use the model later: variant and build settings, class
names, feature settings, training arguments and progress. Read with ``allow_pickle=False``.

Everything lcn_np writes goes through :func:`atomic_write` (checkpoints, cached spectrogram images,
downloaded weights), and everything it caches lives under :func:`cache_dir`.
"""

import json
import os
import pathlib
import tempfile
import zipfile

import numpy


FORMAT = 2      # 1: lcn_np 0.1 (capsule weights named "W"); 2: lcn_np 0.2 (named "w", like every weight)


class CheckpointError(ValueError):
    pass


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file in ``path``'s folder, then rename it to ``path``: a crash
    or Ctrl-C never leaves half a file under the real name (a rename within one folder is atomic)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def cache_dir(kind):
    """``$LCN_CACHE/<kind>`` (default ``~/.cache/lcn_np/<kind>``): ``features`` or ``weights``."""
    return pathlib.Path(os.environ.get("LCN_CACHE", pathlib.Path.home() / ".cache" / "lcn_np")) / kind


def save_checkpoint(path, model_state, optim_state, meta):
    """Write ``path`` atomically. ``meta`` must be JSON-serialisable; the format version is added to it."""
    arrays = {f"model/{k}": v for k, v in model_state.items()}
    arrays.update({f"optim/{k}": v for k, v in (optim_state or {}).items()})
    arrays["meta"] = numpy.array(json.dumps(dict(meta, format=FORMAT)))
    atomic_write(path, lambda f: numpy.savez(f, **arrays))


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
    version = meta.get("format", 1)
    if version != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {version}, but this lcn_np (0.2) reads format {FORMAT} "
                              f"only ({'written by lcn_np 0.1, whose names changed — see CHANGELOG.md' if version < FORMAT else 'written by a newer lcn_np'}); "
                              "train again with this version")
    model = {k[6:]: v for k, v in arrays.items() if k.startswith("model/")}
    optim = {k[6:]: v for k, v in arrays.items() if k.startswith("optim/")}
    return model, optim, meta
