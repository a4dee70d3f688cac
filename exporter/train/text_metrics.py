"""Test metrics of a sentence VAE and its language-model baseline, per sentence in nats, tokens
counted incl. </s>. What each one measures:

- nll (the negative ELBO, one posterior sample: an upper bound on the true NLL), reconstruction, kl;
- nll_iw: importance-weighted NLL (Burda et al. 2016) with k = iw_samples posterior samples per
  sentence, -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x): a tighter bound, the one to compare
  with the LM's exact NLL;
- token_accuracy / exact_match: free-running greedy decoding from mu for max_len steps (what
  the browser does), position by position against w1..wn </s> / whole sentences right;
- prior: `prior_samples` sentences decoded greedily from z ~ N(0, I): the share that are distinct
  (as text), the share that end with </s>, and (with the baseline) the LM's perplexity on them.
"""
import math

import torch

from ..models.text_vae import EOS, PAD, TextVAE, cut, reconstruction
from ..models.vae import kl_per_dim


def _to(tensors, model):
    device = next(model.parameters()).device
    return [t.to(device) for t in tensors]


@torch.no_grad()
def evaluate(model, data, seed=0, accuracy=True, batch_size=256):
    """ELBO (VAE) or exact NLL (LM), perplexity, and for a VAE with `accuracy` the greedy
    reconstruction from mu and the active units (latent dims whose mu varies by more than 0.01)."""
    model.eval()
    vae = isinstance(model, TextVAE)
    rec_sum = kl_sum = correct = exact = 0.0
    mus = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for idx in data.batches(batch_size):
            inputs, targets, lengths = _to(data.batch(idx), model)
            if vae:
                mu, logvar = model.encode(targets, lengths)
                z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
                rec = reconstruction(model.decode(inputs, z, model.init(z)), targets)
                kl_sum += kl_per_dim(mu, logvar).sum().item()
                if accuracy:
                    mus.append(mu)
                    tokens, _ = model.reconstruct(mu)                              # (B, max_len)
                    t = min(tokens.shape[1], targets.shape[1])
                    hit = (tokens[:, :t] == targets[:, :t]) & (targets[:, :t] != PAD)
                    correct += hit.sum().item()
                    exact += (hit.sum(1) == lengths).sum().item()
            else:
                rec = reconstruction(model.decode(inputs), targets)
            rec_sum += rec.sum().item()
    n, tokens = len(data), int(data.lengths.sum())
    m = {"nll": (rec_sum + kl_sum) / n, "perplexity": math.exp((rec_sum + kl_sum) / tokens),
         "n_sentences": n, "n_tokens": tokens}
    if vae:
        m.update(reconstruction=rec_sum / n, kl=kl_sum / n)
        if accuracy:
            m.update(token_accuracy=correct / tokens, exact_match=exact / n,
                     active_units=int((torch.cat(mus).var(0) > 0.01).sum()))
    return m


@torch.no_grad()
def iw_nll(model, data, k=100, seed=0, chunk=50, batch_size=16):
    """Importance-weighted NLL per sentence over all of `data`, k posterior samples each."""
    model.eval()
    total = 0.0
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for idx in data.batches(batch_size):
            inputs, targets, lengths = _to(data.batch(idx), model)
            mu, logvar = model.encode(targets, lengths)                        # (B, Z)
            std, B = (0.5 * logvar).exp(), len(idx)
            weights = []
            for start in range(0, k, chunk):
                kk = min(chunk, k - start)
                eps = torch.randn(kk, B, mu.shape[1], device=mu.device)
                z = (mu + eps * std).reshape(kk * B, -1)                        # (kk * B, Z)
                log_q = (-0.5 * eps.pow(2) - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)   # (kk, B)
                log_p = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1).view(kk, B)
                rec = reconstruction(model.decode(inputs.repeat(kk, 1), z, model.init(z)), targets.repeat(kk, 1))
                weights.append(-rec.view(kk, B) + log_p - log_q)
            total += -(torch.logsumexp(torch.cat(weights), 0) - math.log(k)).sum().item()
    return total / len(data)


@torch.no_grad()
def prior_samples(model, tokenizer, n=1000, seed=0):
    """n sentences decoded greedily from z ~ N(0, I): {n, distinct, ended, examples, ids}."""
    model.eval()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        z = torch.randn(n, model.cfg.latent_size)
    rows = torch.cat([model.reconstruct(part.to(next(model.parameters()).device))[0].cpu() for part in z.split(250)])
    rows = rows.tolist()
    texts = [tokenizer.decode(cut(r)) for r in rows]
    return {"n": n, "distinct": len(set(texts)) / n, "ended": sum(EOS in r for r in rows) / n,
            "examples": texts[:10], "ids": [cut(r) for r in rows]}


def test_metrics(model, data, tokenizer, cfg):
    """Everything measured on the test split once training ends (see the module docstring)."""
    m = evaluate(model, data, seed=cfg.seed)
    if isinstance(model, TextVAE):
        if cfg.iw_samples > 0:
            m.update(nll_iw=iw_nll(model, data, cfg.iw_samples, seed=cfg.seed), iw_samples=cfg.iw_samples)
        if cfg.prior_samples > 0:
            m["prior"] = prior_samples(model, tokenizer, cfg.prior_samples, seed=cfg.seed)
    return m


@torch.no_grad()
def lm_perplexity(lm, id_lists, max_len, batch_size=256):
    """The LM's perplexity on sentences given as id lists (each cut to max_len - 1 tokens, then
    </s>, which is counted)."""
    from .text import Corpus
    lm.eval()
    data = Corpus([""] * len(id_lists), [ids[:max_len - 1] for ids in id_lists], max_len - 1)
    total = 0.0
    for idx in data.batches(batch_size):
        inputs, targets, _ = _to(data.batch(idx), lm)
        total += reconstruction(lm.decode(inputs), targets).sum().item()
    return math.exp(total / int(data.lengths.sum()))


def with_baseline(vae_metrics, lm_metrics, lm):
    """The VAE's test metrics plus the baseline's: {lm: {nll, perplexity}, elbo_vs_lm, iw_vs_lm,
    prior.lm_perplexity}."""
    m = {**vae_metrics, "lm": {k: lm_metrics[k] for k in ("nll", "perplexity", "n_sentences", "n_tokens")}}
    m["elbo_vs_lm"] = m["nll"] / lm_metrics["nll"]
    if "nll_iw" in m:
        m["iw_vs_lm"] = m["nll_iw"] / lm_metrics["nll"]
    if m.get("prior", {}).get("ids"):
        m["prior"] = {**m["prior"], "lm_perplexity": lm_perplexity(lm, m["prior"]["ids"], lm.cfg.max_len)}
    return m
