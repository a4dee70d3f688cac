"""Training on several processes with PyTorch's own launcher:

    torchrun --standalone --nproc-per-node 2 -m exporter train ...

torchrun sets RANK and WORLD_SIZE; `setup` then joins the process group (gloo on CPU, nccl on
GPU). Every rank draws the same shuffled global batches from the same seeded generator and
trains on its own slice of each (`shard`): a distributed sampler that keeps the global batch, so
DistributedDataParallel's averaged gradient is the gradient of the global batch's mean loss.
Only rank 0 validates, evaluates and writes the checkpoint. With one process none of this runs.
"""
import atexit
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..errors import ArgumentError


@dataclass
class Context:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self):
        return self.rank == 0


def device_for(name):
    """`auto` (CUDA if available), `cpu` or `cuda`."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ArgumentError("--device cuda: no CUDA device is available here (use --device cpu)")
    if name not in ("cpu", "cuda"):
        raise ArgumentError(f"--device {name}: choose auto, cpu or cuda")
    return torch.device(name)


def setup(device="auto"):
    """This process's rank and device; joins the process group when torchrun started several."""
    dev, world = device_for(device), int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context(device=dev)
    if dev.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    if not dist.is_initialized():  # once per process: a sentence run trains the VAE, then the LM
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        atexit.register(dist.destroy_process_group)
    return Context(dist.get_rank(), dist.get_world_size(), dev)


def shard(idx, ctx):
    """This rank's part of a global batch of indices."""
    return idx[ctx.rank::ctx.world] if ctx.world > 1 else idx


def wrap(model, ctx):
    """The module to train: DistributedDataParallel over `model` when there are several ranks."""
    if ctx.world <= 1:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def any_rank(flag, ctx):
    """True if `flag` is true on any rank (so all ranks stop together, none waits forever)."""
    if ctx.world <= 1:
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0], device=ctx.device)
    dist.all_reduce(t)
    return bool(t.item() > 0)


def total(sums, ctx):
    """Per-key sums over all ranks."""
    if ctx.world <= 1 or not sums:
        return sums
    keys = sorted(sums)
    t = torch.tensor([sums[k] for k in keys], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return dict(zip(keys, t.tolist()))


def rng_states(ctx):
    """Every rank's torch RNG state (rank order), so a resume is exact on every rank."""
    state = torch.get_rng_state()
    if ctx.world <= 1:
        return [state]
    out = [None] * ctx.world
    dist.all_gather_object(out, state)
    return out


def barrier(ctx):
    if ctx.world > 1:
        dist.barrier()
