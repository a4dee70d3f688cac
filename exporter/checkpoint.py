"""Checkpoints hold their own config, so a run can be reloaded (or resumed) without flags.

Everything saved is a tensor or plain Python data, so `torch.load(weights_only=True)` works.
Writes go to a temp file and `os.replace`, so an interrupted save never leaves half a file.
"""
import os
import tempfile
from pathlib import Path

import torch

from .errors import CheckpointError

FILENAME = "checkpoint.pt"


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
