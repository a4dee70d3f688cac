"""Sentence VAE (Bowman et al. 2016, "Generating Sentences from a Continuous Space") and the
plain GRU language model it is measured against.

encode -> reparameterize -> decode, as for images. Training runs the GRUs with `nn.GRU` over
whole sentences (fast; the encoder on packed sequences); the browser runs the decoder one token
at a time through `init(z)` and `step(token, hidden, z)`, and the encoder as `encode_unrolled`,
which compute the same GRU equations from the *same* `nn.GRU` parameters (see `gru_cell`), so
there is one set of weights and the paths cannot drift apart (tests/test_text_vae.py checks).

Token layout for a sentence w1..wn (byte-level BPE ids, exporter/tokenizers/bpe.py): the
encoder reads w1..wn </s>; the decoder reads <s> w1..wn and predicts w1..wn </s>. Rows are
right-padded with <pad> (id 0).

The output layer is tied to the embedding (Press & Wolf 2017): logits = E · proj(h) + b, with
`proj` (hidden -> emb) only when the sizes differ. One V x emb matrix is the bulk of the bundle.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..configs import TextVAEConfig  # noqa: F401 (re-exported)
from ..tokenizers.bpe import BOS, EOS, PAD, UNK  # noqa: F401 (re-exported)
from .vae import kl_per_dim, reparameterize  # noqa: F401 (kl_per_dim is part of this module's API)


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """One step of nn.GRU written out with its parameters (PyTorch's gate order r, u, n), so the
    exported graphs need no second copy of the weights."""
    i_r, i_u, i_n = F.linear(x, w_ih, b_ih).chunk(3, -1)  # each (B, H)
    h_r, h_u, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)  # each (B, H)
    r = torch.sigmoid(i_r + h_r)                           # reset gate
    u = torch.sigmoid(i_u + h_u)                           # update gate
    n = torch.tanh(i_n + r * h_n)                          # candidate state
    return n + u * (h - n)                                 # = (1 - u) * n + u * h, (B, H)


def gru_unrolled(gru, x, lengths, reverse=False):
    """The final state of one direction of a one-layer `gru` over x (B, T, E), each row stopping
    at its length (B,): what nn.GRU gives on a packed batch, over a fixed T. (B, H)."""
    sfx = "_reverse" if reverse else ""
    w = [getattr(gru, f"{n}_l0{sfx}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    h = x.new_zeros(x.shape[0], gru.hidden_size)
    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    for t in steps:  # backwards: rows start at their own last token, from the zero state
        h = torch.where((lengths > t)[:, None], gru_cell(x[:, t], h, *w), h)
    return h


class GRUDecoder(nn.Module):
    """A GRU language model whose every input is [embedding; z] when z_size > 0 (z_size 0: plain LM)."""

    def __init__(self, cfg: TextVAEConfig, z_size: int):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.emb, padding_idx=PAD)
        self.decoder = nn.GRU(cfg.emb + z_size, cfg.hidden, batch_first=True)
        self.drop = nn.Dropout(cfg.dropout)
        with torch.no_grad():  # small, as in pytorch/examples word_language_model: it is also the output layer
            self.embed.weight.uniform_(-0.1, 0.1)
            self.embed.weight[PAD] = 0
        if cfg.tie_weights:
            self.proj = nn.Linear(cfg.hidden, cfg.emb) if cfg.hidden != cfg.emb else None
            self.out_bias = nn.Parameter(torch.zeros(cfg.vocab_size))
        else:
            self.out = nn.Linear(cfg.hidden, cfg.vocab_size)

    def _inputs(self, x, z):                   # x: (B, T, E) or (B, E), z: (B, Z) or None
        if z is None:
            return x
        if x.dim() == 3:
            z = z[:, None, :].expand(-1, x.shape[1], -1)  # (B, T, Z)
        return torch.cat([x, z], -1)           # (B, T, E + Z) or (B, E + Z)

    def logits(self, h):                       # (..., H) -> (..., V)
        if not self.cfg.tie_weights:
            return self.out(h)
        return F.linear(h if self.proj is None else self.proj(h), self.embed.weight, self.out_bias)

    def decode(self, inputs, z=None, h0=None):
        """Teacher-forced logits (B, T, V) for decoder inputs (B, T) starting with <s>."""
        x = self._inputs(self.drop(self.embed(inputs)), z)  # (B, T, E + Z)
        out, _ = self.decoder(x, None if h0 is None else h0[None])  # (B, T, H)
        return self.logits(self.drop(out))     # (B, T, V)

    def step(self, token, hidden, z=None):
        """One decoder step: token (B,) int64, hidden (B, H) -> logits (B, V), new hidden (B, H)."""
        g = self.decoder
        x = self._inputs(self.embed(token), z)  # (B, E + Z)
        hidden = gru_cell(x, hidden, g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0)
        return self.logits(hidden), hidden

    @torch.no_grad()
    def greedy(self, hidden, z=None, steps=None):
        """Free-running argmax decoding from <s>, `steps` tokens (default max_len); it keeps going
        after </s> (callers cut at the first </s>). Returns tokens (B, T) int64, logits (B, T, V)."""
        return greedy(self, hidden, z, steps or self.cfg.max_len)


def cut(ids):
    """A greedy row up to (not incl.) its first </s>."""
    ids = [int(i) for i in ids]
    return ids[:ids.index(EOS)] if EOS in ids else ids


def greedy(model, hidden, z, steps, stop_at_eos=False):
    """Argmax decoding with any model that has `step(token, hidden, z)`: tokens (B, T), logits (B, T, V).
    T = steps, or with stop_at_eos the step at which the last row emits its first </s> (at most steps)."""
    token = torch.full((hidden.shape[0],), BOS, dtype=torch.long)
    done = torch.zeros(hidden.shape[0], dtype=torch.bool) if stop_at_eos else None
    tokens, logits = [], []
    for _ in range(steps):
        lg, hidden = model.step(token, hidden, z)
        token = lg.argmax(-1)
        tokens.append(token)
        logits.append(lg)
        if stop_at_eos:  # data-dependent: torch only, never in an exported graph (loop.onnx has its own)
            done |= token == EOS
            if done.all():
                break
    return torch.stack(tokens, 1), torch.stack(logits, 1)


class TextVAE(GRUDecoder):
    """Embedding -> (bidirectional) GRU encoder -> (mu, logvar); z -> decoder h0 = tanh(W z), and
    z joins every decoder input."""

    def __init__(self, cfg: TextVAEConfig):
        super().__init__(cfg, cfg.latent_size)
        self.encoder = nn.GRU(cfg.emb, cfg.encoder_hidden, batch_first=True, bidirectional=cfg.bidirectional)
        width = cfg.encoder_hidden * (2 if cfg.bidirectional else 1)
        self.to_mu = nn.Linear(width, cfg.latent_size)
        self.to_logvar = nn.Linear(width, cfg.latent_size)
        self.to_hidden = nn.Linear(cfg.latent_size, cfg.hidden)

    def encode(self, targets, lengths):         # targets: (B, T) w1..wn </s> padded, lengths: (B,)
        x = self.drop(self.embed(targets))                                       # (B, T, E)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h = self.encoder(packed)                                              # (D, B, He): after </s>
        h = torch.cat(list(h), -1)                                               # (B, D * He)
        return self.to_mu(h), self.to_logvar(h)                                  # (B, Z), (B, Z)

    def encode_unrolled(self, targets, lengths):
        """mu (B, Z) as `encode` computes it (in eval mode), written out step by step with the
        encoder GRU's own parameters over a fixed T: what the exported sentence encoder runs.
        targets (B, T) int64 padded, lengths (B,) int64; each direction stops at the length."""
        x = self.embed(targets)                                                  # (B, T, E)
        states = [gru_unrolled(self.encoder, x, lengths)]
        if self.cfg.bidirectional:
            states.append(gru_unrolled(self.encoder, x, lengths, reverse=True))
        return self.to_mu(torch.cat(states, -1))                                 # (B, Z)

    def init(self, z):
        """Decoder initial hidden state (B, H) from z (B, Z)."""
        return torch.tanh(self.to_hidden(z))

    def word_dropout(self, inputs):
        """Replace a share of the tokens (never <s> or <pad>) by <unk>, so the decoder must lean on z."""
        if not self.training or self.cfg.word_dropout <= 0:
            return inputs
        drop = torch.rand(inputs.shape, device=inputs.device) < self.cfg.word_dropout
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
