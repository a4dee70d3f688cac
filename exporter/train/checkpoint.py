"""Checkpoints hold their own config, so a run can be reloaded (or resumed) without flags.

Everything saved is a tensor or plain Python data, so `torch.load(weights_only=True)` works.
Writes go to a temp file and `os.replace`, so an interrupted save never leaves half a file.
"""
import os
import tempfile
from dataclasses import fields
from pathlib import Path

import torch

from ..errors import CheckpointError

FILENAME = "checkpoint.pt"


def check_run(run_dir, resume):
    """Check, before anything is loaded, that `run_dir` can take this run: a new or empty folder,
    or with resume one holding a checkpoint. Raises CheckpointError; writes nothing."""
    run_dir = Path(run_dir)
    has = (run_dir / FILENAME).is_file()
    if run_dir.exists() and not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: exists and is not a folder")
    if resume and not has:
        raise CheckpointError(f"{run_dir / FILENAME}: no checkpoint to resume")
    if not resume and has:
        raise CheckpointError(f"{run_dir}: already holds a checkpoint (use --resume, or another --out)")
    if not resume and run_dir.is_dir() and any(run_dir.iterdir()):
        raise CheckpointError(f"{run_dir}: exists and is not a training run (move it away or choose another --out)")


def make_run(run_dir):
    """Create `run_dir` and prove it is writable, before the first epoch rather than after it."""
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=run_dir):
            pass
    except OSError as e:
        raise CheckpointError(f"{run_dir}: cannot write here ({e.strerror})") from None


def save(run_dir, payload):
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".checkpoint-", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, run_dir / FILENAME)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(run_dir, kind=None):
    path = Path(run_dir) / FILENAME
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint here (train first: latent-explorer train --out {run_dir})")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__})") from None
    if not isinstance(payload, dict) or "model_config" not in payload:
        raise CheckpointError(f"{path}: not a latent-explorer checkpoint")
    if kind is not None and payload.get("kind") != kind:
        raise CheckpointError(f"{path}: holds a {payload.get('kind')!r} model, expected {kind!r}")
    return payload


def config(cls, payload, key, run_dir):
    """Rebuild the dataclass `cls` saved under payload[key], naming unknown or missing keys."""
    saved = payload.get(key)
    path = Path(run_dir) / FILENAME
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: has no {key}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(saved) - names)
    if unknown:
        raise CheckpointError(f"{path}: {key} has unknown keys {', '.join(unknown)} (made by another version?)")
    try:
        return cls(**saved)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: {key} is not usable ({e})") from None


def restore(module, payload, key, run_dir):
    """Load payload[key] into `module`, naming the checkpoint if the weights do not fit."""
    try:
        module.load_state_dict(payload[key])
    except (KeyError, RuntimeError, TypeError, ValueError) as e:
        problem = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CheckpointError(f"{Path(run_dir) / FILENAME}: {key} does not fit the model ({problem})") from None
