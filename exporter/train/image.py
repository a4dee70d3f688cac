"""Training an image VAE: the data, the loss (Bernoulli likelihood, KL warm-up and beta) and the
test metrics. The loop itself is `loop.fit`."""
import torch

from ..configs import TrainConfig, VAEConfig
from ..data import load_images
from ..models.image_vae import ImageVAE, loss_terms
from . import loop

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
            xb = torch.from_numpy(x[i:i + batch_size]).to(next(model.parameters()).device)
            logits, mu, logvar = model(xb)
            rec, kl = loss_terms(logits, xb, mu, logvar)
            rec_sum, kl_sum = rec_sum + rec.sum().item(), kl_sum + kl.sum().item()
            mus.append(mu)
    n = len(x)
    active = int((torch.cat(mus).var(0) > 0.01).sum())
    return {"neg_elbo": (rec_sum + kl_sum) / n, "reconstruction": rec_sum / n, "kl": kl_sum / n,
            "active_units": active, "n_images": n}


class ImageTask(loop.Task):
    kind, label = KIND, "image VAE"

    def __init__(self, cfg: TrainConfig, model_cfg: VAEConfig, state=None):
        super().__init__(cfg, model_cfg, state)
        self.data = load_images(cfg.dataset, cfg.data, seed=cfg.seed)
        model_cfg.height, model_cfg.width = self.data.shape[:2]
        model_cfg.colors = self.data.shape[2] if len(self.data.shape) == 3 else 1
        self.x = torch.from_numpy(self.data.x_train[:cfg.limit])
        self.label = self.data.name

    def build(self):
        return ImageVAE(self.model_cfg)

    def n_train(self):
        return len(self.x)

    def batches(self, generator):
        return torch.randperm(len(self.x), generator=generator).split(self.cfg.batch_size)

    def loss(self, model, idx, epoch, step):
        xb = self.x[idx].to(self.device)
        logits, mu, logvar = model(xb)
        rec, kl = loss_terms(logits, xb, mu, logvar)
        loss = (rec + kl_weight(self.cfg, epoch) * kl).mean()
        return loss, {"loss": loss.item() * len(idx), "reconstruction": rec.sum().item(), "kl": kl.sum().item()}

    def record(self, epoch, step):
        return {"kl_weight": kl_weight(self.cfg, epoch)}

    def evaluate(self, model):
        return evaluate(model, self.data.x_test, seed=self.cfg.seed)

    def extra_state(self):
        return {"dataset": self.data.name}


def train(cfg: TrainConfig, model_cfg: VAEConfig, run_dir, resume=False, epochs=None, progress=True, device="auto"):
    """Train (or resume) an image VAE in `run_dir`; returns the final checkpoint payload."""
    return loop.fit(ImageTask, cfg, model_cfg, run_dir, resume, epochs, progress, device)


def load_model(run_dir):
    """Rebuild the trained image VAE from a run folder, using the config saved inside it."""
    return loop.load(run_dir, KIND, ImageVAE, VAEConfig)
