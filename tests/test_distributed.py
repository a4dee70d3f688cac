"""Training under PyTorch's own launcher: `torchrun --standalone --nproc-per-node 2` on CPU (gloo).
The checkpoint is written once, by rank 0, and exports; the loss stays within a stated tolerance
of a one-process run with the same global batch; a resumed two-process run equals an
uninterrupted one exactly."""
import os
import shutil
import subprocess
import sys

import pytest
import torch

from exporter.cli import main

TORCHRUN = shutil.which("torchrun", path=os.path.dirname(sys.executable))
LOSS_TOLERANCE = 0.005  # relative, per epoch: the ranks draw other posterior samples than one process does


def torchrun(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run([TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "exporter", "train", *map(str, args)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return p


@pytest.mark.skipif(TORCHRUN is None, reason="torchrun is not installed beside this Python")
def test_two_processes_train_like_one(tmp_path):
    multi, single = tmp_path / "multi", tmp_path / "single"
    p = torchrun("--out", multi, "--epochs", "2", "--batch-size", "64", "--device", "cpu")
    assert p.stdout.count("trained digits") == 1, "only rank 0 reports"
    assert sorted(os.listdir(multi)) == ["checkpoint.pt"], "one checkpoint, written once"
    assert main(["train", "--out", str(single), "--epochs", "2", "--batch-size", "64", "--device", "cpu"]) == 0
    a, b = (torch.load(r / "checkpoint.pt", weights_only=True) for r in (single, multi))
    assert b["world_size"] == 2 and len(b["torch_rng_ranks"]) == 2
    for one, two in zip(a["history"], b["history"]):
        assert abs(two["loss"] - one["loss"]) <= LOSS_TOLERANCE * one["loss"], (one["loss"], two["loss"])
    assert main(["export", str(multi), "--out", str(tmp_path / "bundle")]) == 0

    half = tmp_path / "half"
    torchrun("--out", half, "--epochs", "1", "--batch-size", "64", "--device", "cpu")
    torchrun("--out", half, "--resume", "--epochs", "2")
    c = torch.load(half / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(c["model"][k], b["model"][k]) for k in b["model"]), "resume is exact on two processes"
