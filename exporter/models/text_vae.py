"""Sentence VAE (Bowman et al. 2016, "Generating Sentences from a Continuous Space") and the
plain GRU language model it is measured against.

encode -> reparameterize -> decode, as for images. Training runs the decoder with `nn.GRU` over
whole sentences (fast); the browser runs it one token at a time through `init(z)` and
`step(token, hidden, z)`, which compute the same GRU equations from the *same* `nn.GRU`
parameters (see `gru_cell`), so there is one set of weights and the two paths cannot drift apart
(tests/test_text_vae.py checks they agree).

Token layout for a sentence w1..wn: the encoder reads w1..wn </s>; the decoder reads
<s> w1..wn and predicts w1..wn </s>. Rows are right-padded with <pad> (id 0).
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..configs import TextVAEConfig  # noqa: F401 (re-exported)
from ..errors import ArgumentError
from .vae import kl_per_dim, reparameterize  # noqa: F401 (kl_per_dim is part of this module's API)

PAD, UNK, BOS, EOS = 0, 1, 2, 3  # fixed ids of exporter.tokenizers.words.Vocab's specials


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """One step of nn.GRU written out with its parameters (PyTorch's gate order r, u, n), so the
    exported one-step decoder needs no second copy of the weights."""
    i_r, i_u, i_n = F.linear(x, w_ih, b_ih).chunk(3, -1)  # each (B, H)
    h_r, h_u, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)  # each (B, H)
    r = torch.sigmoid(i_r + h_r)                           # reset gate
    u = torch.sigmoid(i_u + h_u)                           # update gate
    n = torch.tanh(i_n + r * h_n)                          # candidate state
    return n + u * (h - n)                                 # = (1 - u) * n + u * h, (B, H)


class GRUDecoder(nn.Module):
    """A GRU language model whose every input is [embedding; z] when z_size > 0 (z_size 0: plain LM)."""

    def __init__(self, cfg: TextVAEConfig, z_size: int):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.emb, padding_idx=PAD)
        self.decoder = nn.GRU(cfg.emb + z_size, cfg.hidden, batch_first=True)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden, cfg.vocab_size)
        with torch.no_grad():  # small, as in pytorch/examples word_language_model: it is also the output layer
            self.embed.weight.uniform_(-0.1, 0.1)
            self.embed.weight[PAD] = 0
        if cfg.tie_weights:
            if cfg.emb != cfg.hidden:
                raise ArgumentError(f"tie_weights needs emb == hidden, got {cfg.emb} and {cfg.hidden}")
            self.out.weight = self.embed.weight

    def _inputs(self, x, z):                   # x: (B, T, E) or (B, E), z: (B, Z) or None
        if z is None:
            return x
        if x.dim() == 3:
            z = z[:, None, :].expand(-1, x.shape[1], -1)  # (B, T, Z)
        return torch.cat([x, z], -1)           # (B, T, E + Z) or (B, E + Z)

    def decode(self, inputs, z=None, h0=None):
        """Teacher-forced logits (B, T, V) for decoder inputs (B, T) starting with <s>."""
        x = self._inputs(self.drop(self.embed(inputs)), z)  # (B, T, E + Z)
        out, _ = self.decoder(x, None if h0 is None else h0[None])  # (B, T, H)
        return self.out(self.drop(out))        # (B, T, V)

    def step(self, token, hidden, z=None):
        """One decoder step: token (B,) int64, hidden (B, H) -> logits (B, V), new hidden (B, H)."""
        g = self.decoder
        x = self._inputs(self.embed(token), z)  # (B, E + Z)
        hidden = gru_cell(x, hidden, g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0)
        return self.out(hidden), hidden

    @torch.no_grad()
    def greedy(self, hidden, z=None, steps=None):
        """Free-running argmax decoding from <s>, `steps` tokens (default max_len); it keeps going
        after </s> (callers cut at the first </s>). Returns tokens (B, T) int64, logits (B, T, V)."""
        token = torch.full((hidden.shape[0],), BOS, dtype=torch.long)
        tokens, logits = [], []
        for _ in range(steps or self.cfg.max_len):
            lg, hidden = self.step(token, hidden, z)
            token = lg.argmax(-1)
            tokens.append(token)
            logits.append(lg)
        return torch.stack(tokens, 1), torch.stack(logits, 1)


class TextVAE(GRUDecoder):
    """Embedding -> GRU encoder -> (mu, logvar); z -> decoder h0 = tanh(W z) and z joins every input."""

    def __init__(self, cfg: TextVAEConfig):
        super().__init__(cfg, cfg.latent_size)
        self.encoder = nn.GRU(cfg.emb, cfg.hidden, batch_first=True)
        self.to_mu = nn.Linear(cfg.hidden, cfg.latent_size)
        self.to_logvar = nn.Linear(cfg.hidden, cfg.latent_size)
        self.to_hidden = nn.Linear(cfg.latent_size, cfg.hidden)

    def encode(self, targets, lengths):         # targets: (B, T) w1..wn </s> padded, lengths: (B,)
        out, _ = self.encoder(self.drop(self.embed(targets)))    # (B, T, H)
        h = out[torch.arange(len(lengths)), lengths - 1]         # (B, H): state after </s>
        return self.to_mu(h), self.to_logvar(h)                 # (B, Z), (B, Z)

    def encode_unrolled(self, targets, lengths):
        """mu (B, Z) as `encode` computes it, written out step by step with the encoder GRU's own
        parameters (as `step` does for the decoder), over a fixed T: what the exported sentence
        encoder runs. targets (B, T) int64 padded, lengths (B,) int64; the state stops at length."""
        g = self.encoder
        x = self.embed(targets)                                      # (B, T, E)
        h = x.new_zeros(targets.shape[0], g.hidden_size)             # (B, H)
        for t in range(targets.shape[1]):
            new = gru_cell(x[:, t], h, g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0)
            h = torch.where((lengths > t)[:, None], new, h)          # (B, H): frozen after </s>
        return self.to_mu(h)

    def init(self, z):
        """Decoder initial hidden state (B, H) from z (B, Z)."""
        return torch.tanh(self.to_hidden(z))

    def word_dropout(self, inputs):
        """Replace a share of the words (never <s> or <pad>) by <unk>, so the decoder must lean on z."""
        if not self.training or self.cfg.word_dropout <= 0:
            return inputs
        drop = torch.rand(inputs.shape) < self.cfg.word_dropout
        drop &= (inputs != PAD) & (inputs != BOS)
        return inputs.masked_fill(drop, UNK)

    def forward(self, inputs, targets, lengths):
        """Teacher-forced pass with a posterior sample: (logits (B, T, V), mu (B, Z), logvar (B, Z))."""
        mu, logvar = self.encode(targets, lengths)
        z = reparameterize(mu, logvar)
        return self.decode(self.word_dropout(inputs), z, self.init(z)), mu, logvar

    @torch.no_grad()
    def reconstruct(self, z, steps=None):
        """Greedy tokens (B, T) and logits (B, T, V) from z: what the browser computes."""
        return self.greedy(self.init(z), z, steps)


class GRULM(GRUDecoder):
    """The baseline: the same decoder without z (h0 = 0). Same embedding and hidden sizes."""

    def __init__(self, cfg: TextVAEConfig):
        super().__init__(cfg, 0)

    def forward(self, inputs, targets=None, lengths=None):
        return self.decode(inputs)             # (B, T, V)


def reconstruction(logits, targets):
    """Per-sentence negative log-likelihood in nats, summed over tokens incl. </s>: (B,)."""
    nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD, reduction="none")  # (B*T,)
    return nll.view(targets.shape).sum(1)
