"""What every VAE here shares: the reparameterization trick and the KL term against N(0, I)."""
import torch


def reparameterize(mu, logvar):
    """A posterior sample z = mu + sigma * eps, eps ~ N(0, I): (B, Z)."""
    return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)


def kl_per_dim(mu, logvar):
    """KL(q(z|x) || N(0, I)) per example and latent dimension, in nats: (B, Z)."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())
