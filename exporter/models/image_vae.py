"""Image VAEs: encode -> reparameterize -> decode, as in pytorch/examples vae/main.py.

Only `decode` and the encoder's mean (wrapped with the PCA, see export/) go to the browser.
Images are (B, H, W) grey or (B, H, W, 3) RGB, values in [0, 1]; the decoder returns Bernoulli
logits so the loss can use the stable `binary_cross_entropy_with_logits`, and `decode` applies
the sigmoid.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..configs import LATENT_SIZE, VAEConfig  # noqa: F401 (re-exported)
from ..errors import ArgumentError
from .vae import kl_per_dim, reparameterize


def image_shape(cfg):
    """(H, W) for grey images, (H, W, 3) for colour."""
    return (cfg.height, cfg.width) if cfg.colors == 1 else (cfg.height, cfg.width, cfg.colors)


class ChannelsFirst(nn.Module):
    """(B, H, W) -> (B, 1, H, W); (B, H, W, C) -> (B, C, H, W): what Conv2d takes."""

    def forward(self, x):
        return x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)


class ChannelsLastFlat(nn.Module):
    """(B, C, H, W) -> (B, H * W * C) in (H, W, C) order: the inverse of ChannelsFirst, flattened."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


class MLPCoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = cfg.height * cfg.width * cfg.colors
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(n, cfg.hidden), nn.ReLU(),
                                     nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(cfg.latent_size, cfg.hidden), nn.ReLU(),
                                     nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(),
                                     nn.Linear(cfg.hidden, n))
        self.features = cfg.hidden


class ConvCoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.height % 4 or cfg.width % 4:
            raise ArgumentError(f"--arch conv needs image height and width divisible by 4, got {cfg.height}x{cfg.width}")
        c, h4, w4, k = cfg.channels, cfg.height // 4, cfg.width // 4, cfg.colors
        self.encoder = nn.Sequential(
            ChannelsFirst(),                                         # (B, k, H, W)
            nn.Conv2d(k, c, 4, 2, 1), nn.ReLU(),                     # (B, c, H/2, W/2)
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(),                 # (B, 2c, H/4, W/4)
            nn.Flatten(), nn.Linear(2 * c * h4 * w4, cfg.hidden), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latent_size, cfg.hidden), nn.ReLU(),
            nn.Linear(cfg.hidden, 2 * c * h4 * w4), nn.ReLU(),
            nn.Unflatten(1, (2 * c, h4, w4)),                        # (B, 2c, H/4, W/4)
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),        # (B, c, H/2, W/2)
            nn.ConvTranspose2d(c, k, 4, 2, 1),                       # (B, k, H, W)
            ChannelsLastFlat())                                      # (B, H * W * k)
        self.features = cfg.hidden


class ImageVAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        coder = {"mlp": MLPCoder, "conv": ConvCoder}[cfg.arch](cfg)
        self.encoder, self.decoder = coder.encoder, coder.decoder
        self.to_mu = nn.Linear(coder.features, cfg.latent_size)
        self.to_logvar = nn.Linear(coder.features, cfg.latent_size)

    def encode(self, x):                        # x: (B, H, W) or (B, H, W, 3)
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h)  # (B, Z), (B, Z)

    def decode_logits(self, z):                 # z: (B, Z) -> (B, H, W) or (B, H, W, 3)
        return self.decoder(z).view(-1, *image_shape(self.cfg))

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def image_decoder(self):
        """z (B, Z) -> images (B, H, W[, 3]) in [0, 1], as one module: what gets exported."""
        return nn.Sequential(self.decoder, nn.Unflatten(1, image_shape(self.cfg)), nn.Sigmoid())

    def image_encoder(self):
        """images (B, H, W[, 3]) -> mu (B, Z), as one module: what gets exported next to the decoder."""
        return nn.Sequential(self.encoder, self.to_mu)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode_logits(reparameterize(mu, logvar)), mu, logvar


def loss_terms(logits, x, mu, logvar):
    """Per-image negative ELBO pieces in nats: (reconstruction, KL), each (B,)."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = kl_per_dim(mu, logvar).sum(1)
    return rec, kl
