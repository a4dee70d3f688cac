"""The one training loop, for the image VAE, the sentence VAE and its language-model baseline.

It knows nothing about the model: a `Task` loads the data, builds the model, yields index
batches, computes a batch's loss and evaluates. The loop owns what every run needs and must get
right once: seeding, the optimizer, resuming exactly (model, optimizer, step, both RNG states),
a checkpoint written atomically after every epoch, stopping the moment the loss is not finite,
a tqdm progress bar, and several processes under torchrun (`dist.py`).
"""
import time
from dataclasses import asdict

import torch
from tqdm import tqdm

from ..errors import TrainingError
from ..provenance import versions
from . import checkpoint, dist


class Task:
    """What the loop needs from a kind of model. Subclasses set `kind` and `label` and implement
    the methods; `extra_state` adds fields to every checkpoint (e.g. the vocabulary)."""
    kind = "task"
    label = "model"
    grad_clip = None  # max gradient norm, or None
    device = torch.device("cpu")  # where batches go; set by fit

    def __init__(self, cfg, model_cfg, state=None):
        self.cfg, self.model_cfg = cfg, model_cfg

    def build(self):
        raise NotImplementedError

    def batches(self, generator):
        """Index batches of one shuffled epoch."""
        raise NotImplementedError

    def loss(self, model, idx, epoch, step):
        """(mean loss to minimize, {name: sum over the batch}) for the batch `idx`. `model` may be
        wrapped in DistributedDataParallel: call it, do not inspect it."""
        raise NotImplementedError

    def n_train(self):
        raise NotImplementedError

    def lr_factor(self, step):
        """The learning rate of optimizer step `step`, as a share of cfg.lr (a schedule)."""
        return 1.0

    def record(self, epoch, step):
        """Extra fields for this epoch's history entry (e.g. the KL weight in use)."""
        return {}

    def validate(self, model):
        """Per-epoch figures on held-out data ({} for none); must not touch the global RNG."""
        return {}

    def evaluate(self, model):
        """Test metrics, once, after the last epoch."""
        raise NotImplementedError

    def extra_state(self):
        return {}


def fit(task_cls, cfg, model_cfg, run_dir, resume=False, epochs=None, progress=True, device="auto"):
    """Train (or resume) a run in `run_dir` and return the final checkpoint payload.

    On resume the configs saved in the checkpoint win; only `epochs` (the new total) may change.
    Under torchrun every rank runs this; the payload returned is the same on every rank."""
    return _fit(dist.setup(device), task_cls, cfg, model_cfg, run_dir, resume, epochs, progress)


def _fit(ctx, task_cls, cfg, model_cfg, run_dir, resume, epochs, progress):
    checkpoint.check_run(run_dir, resume)
    state = None
    if resume:
        state = checkpoint.load(run_dir, kind=task_cls.kind)
        cfg = checkpoint.config(type(cfg), state, "train_config", run_dir)
        model_cfg = checkpoint.config(type(model_cfg), state, "model_config", run_dir)
        cfg.epochs = epochs or cfg.epochs
    task = task_cls(cfg, model_cfg, state)  # loads the data: its errors come before any folder is made
    task.device = ctx.device
    dist.barrier(ctx)  # every rank has checked the run folder before rank 0 creates it
    if ctx.main:
        checkpoint.make_run(run_dir)
    torch.manual_seed(cfg.seed)
    model = task.build().to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    if not ctx.main:
        torch.manual_seed(cfg.seed + 1000 * ctx.rank)  # each rank its own posterior samples and dropout
    start, step, history, elapsed = 0, 0, [], 0.0
    if state:
        checkpoint.restore(model, state, "model", run_dir)
        checkpoint.restore(opt, state, "optimizer", run_dir)
        shuffle.set_state(state["shuffle_rng"])
        ranks = state.get("torch_rng_ranks") or [state["torch_rng"]]
        if len(ranks) == ctx.world:
            torch.set_rng_state(ranks[ctx.rank])
        start, step, history, elapsed = state["epoch"] + 1, state.get("step", 0), state["history"], state["train_seconds"]
    trained = dist.wrap(model, ctx)
    bar = tqdm(range(start, cfg.epochs), initial=start, total=cfg.epochs, desc=f"train {task.label}",
               unit="epoch", disable=not (progress and ctx.main))
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        sums = {}
        for idx in task.batches(shuffle):
            loss, logs = task.loss(trained, dist.shard(idx, ctx), epoch, step)
            if dist.any_rank(not torch.isfinite(loss), ctx):
                raise TrainingError(f"{run_dir}: the loss became {loss.item()} in epoch {epoch + 1}; try a lower "
                                    "--lr (or --beta), and --resume continues from the last good checkpoint")
            opt.zero_grad()
            loss.backward()
            if task.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), task.grad_clip)
            for group in opt.param_groups:
                group["lr"] = cfg.lr * task.lr_factor(step)
            opt.step()
            step += 1
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + float(v)
        elapsed += time.perf_counter() - t0
        sums, rngs = dist.total(sums, ctx), dist.rng_states(ctx)
        record = {"epoch": epoch, **{k: v / task.n_train() for k, v in sums.items()}, **task.record(epoch, step - 1),
                  **(task.validate(model) if ctx.main else {}), "seconds": elapsed}
        history.append(record)
        bar.set_postfix({k: f"{record[k]:.2f}" for k in ("loss", "kl", "valid_nll") if k in record})
        state = {
            "kind": task.kind, "model_config": asdict(model_cfg), "train_config": asdict(cfg),
            "model": {k: v.cpu() for k, v in model.state_dict().items()}, "optimizer": opt.state_dict(),
            "epoch": epoch, "step": step, "shuffle_rng": shuffle.get_state(), "torch_rng": rngs[0],
            "history": history, "train_seconds": elapsed, "versions": versions(), **task.extra_state(),
        }
        if ctx.world > 1:
            state["torch_rng_ranks"], state["world_size"] = rngs, ctx.world
        if epoch == cfg.epochs - 1 and ctx.main:
            state["test_metrics"] = task.evaluate(model)
        if ctx.main:
            checkpoint.save(run_dir, state)
        dist.barrier(ctx)
    return state


def load(run_dir, kind, model_cls, config_cls):
    """Rebuild a trained model from its run folder: (model in eval mode, checkpoint payload)."""
    state = checkpoint.load(run_dir, kind=kind)
    model = model_cls(checkpoint.config(config_cls, state, "model_config", run_dir))
    checkpoint.restore(model, state, "model", run_dir)
    return model.eval(), state
