"""Train an image VAE. The loop knows nothing about the architecture: it needs only
`model(x) -> (logits, mu, logvar)` and `loss_terms`. Checkpoints are written every epoch, so
an interrupted run resumes where it stopped (model, optimizer, epoch and RNG state).
"""
import time
from dataclasses import asdict

import torch
from tqdm import tqdm

from . import checkpoint
from .configs import TrainConfig, VAEConfig
from .data import load_images
from .errors import TrainingError
from .models.image_vae import ImageVAE, loss_terms
from .provenance import versions

KIND = "image-vae"


def kl_weight(cfg, epoch):
    return cfg.beta * min(1.0, (epoch + 1) / cfg.kl_warmup) if cfg.kl_warmup > 0 else cfg.beta


@torch.no_grad()
def evaluate(model, x, batch_size=512, seed=0):
    """Per-image test metrics in nats with one posterior sample: -ELBO, reconstruction, KL, and
    active units (latent dims whose posterior-mean variance over the set exceeds 0.01)."""
    model.eval()
    rec_sum = kl_sum = 0.0
    mus = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[i:i + batch_size])
            logits, mu, logvar = model(xb)
            rec, kl = loss_terms(logits, xb, mu, logvar)
            rec_sum, kl_sum = rec_sum + rec.sum().item(), kl_sum + kl.sum().item()
            mus.append(mu)
    n = len(x)
    active = int((torch.cat(mus).var(0) > 0.01).sum())
    return {"neg_elbo": (rec_sum + kl_sum) / n, "reconstruction": rec_sum / n, "kl": kl_sum / n,
            "active_units": active, "n_images": n}


def train(cfg: TrainConfig, model_cfg: VAEConfig, run_dir, resume=False, epochs=None, progress=True):
    """Train (or resume) and return the final checkpoint payload.

    On resume the configs saved in the checkpoint win; only `epochs` (the new total) may change."""
    checkpoint.check_run(run_dir, resume)
    if resume:
        state = checkpoint.load(run_dir, kind=KIND)
        cfg = checkpoint.config(TrainConfig, state, "train_config", run_dir)
        model_cfg = checkpoint.config(VAEConfig, state, "model_config", run_dir)
        cfg.epochs = epochs or cfg.epochs
    data = load_images(cfg.dataset, cfg.data, seed=cfg.seed)
    checkpoint.make_run(run_dir)
    model_cfg.height, model_cfg.width = data.shape
    torch.manual_seed(cfg.seed)
    model = ImageVAE(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    start, history, elapsed = 0, [], 0.0
    if resume:
        checkpoint.restore(model, state, "model", run_dir)
        checkpoint.restore(opt, state, "optimizer", run_dir)
        shuffle.set_state(state["shuffle_rng"])
        torch.set_rng_state(state["torch_rng"])
        start, history, elapsed = state["epoch"] + 1, state["history"], state["train_seconds"]
    x = torch.from_numpy(data.x_train[:cfg.limit])
    bar = tqdm(range(start, cfg.epochs), initial=start, total=cfg.epochs, desc=f"train {data.name}",
               unit="epoch", disable=not progress)
    payload = state if resume else None
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        w = kl_weight(cfg, epoch)
        tot = rec_tot = kl_tot = 0.0
        for idx in torch.randperm(len(x), generator=shuffle).split(cfg.batch_size):
            xb = x[idx]
            logits, mu, logvar = model(xb)
            rec, kl = loss_terms(logits, xb, mu, logvar)
            loss = (rec + w * kl).mean()
            if not torch.isfinite(loss):
                raise TrainingError(f"{run_dir}: the loss became {loss.item()} in epoch {epoch + 1}; "
                                    "try a lower --lr or --beta (the last good checkpoint is kept)")
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot, rec_tot, kl_tot = tot + loss.item() * len(idx), rec_tot + rec.sum().item(), kl_tot + kl.sum().item()
        elapsed += time.perf_counter() - t0
        n = len(x)
        history.append({"epoch": epoch, "loss": tot / n, "reconstruction": rec_tot / n, "kl": kl_tot / n, "kl_weight": w})
        bar.set_postfix(loss=f"{tot / n:.2f}", kl=f"{kl_tot / n:.2f}")
        payload = {
            "kind": KIND, "model_config": asdict(model_cfg), "train_config": asdict(cfg),
            "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
            "shuffle_rng": shuffle.get_state(), "torch_rng": torch.get_rng_state(),
            "history": history, "train_seconds": elapsed, "dataset": data.name,
            "versions": versions(),
        }
        if epoch == cfg.epochs - 1:
            payload["test_metrics"] = evaluate(model, data.x_test, seed=cfg.seed)
        checkpoint.save(run_dir, payload)
    return payload


def load_model(run_dir):
    """Rebuild the trained model from a run folder, using the config saved inside it."""
    state = checkpoint.load(run_dir, kind=KIND)
    model = ImageVAE(checkpoint.config(VAEConfig, state, "model_config", run_dir))
    checkpoint.restore(model, state, "model", run_dir)
    return model.eval(), state
