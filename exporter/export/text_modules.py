"""The torch modules a text bundle's graphs are exported from (each takes and gives what its
graph does; coords are full PCA coordinates), the protocol a sentence model of one's own follows
(`SentenceModel`), and the inputs the export gate checks the step and encoder graphs on."""
import numpy as np
import torch
from torch import nn

from ..errors import ArgumentError
from ..models.text_vae import BOS, EOS, PAD
from ..space import pca as pca_


class PCAInit(nn.Module):
    """coords (B, Z) -> z (B, Z) through the PCA inverse, and the decoder's first hidden state."""

    def __init__(self, model, components, mean):
        super().__init__()
        self.model = model
        self.pca = pca_.PCAInverse(components, mean)

    def forward(self, coords):                       # (B, Z)
        z = self.pca(coords)                         # (B, Z)
        return z, self.model.init(z)                 # (B, Z), (B, H)


class Step(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, token, hidden, z):             # (B,) int64, (B, H), (B, Z)
        return self.model.step(token, hidden, z)     # logits (B, V), hidden_out (B, H)


class PCAGreedy(nn.Module):
    """coords (B, Z) -> greedy tokens (B, T) and their logits (B, T, V), T = max_len, loop unrolled."""

    def __init__(self, model, components, mean):
        super().__init__()
        self.init = PCAInit(model, components, mean)

    def forward(self, coords):
        z, hidden = self.init(coords)
        return self.init.model.greedy(hidden, z)


class PCASentenceEncoder(nn.Module):
    """tokens (B, T) int64, lengths (B,) int64 -> mu (unrolled GRU) -> PCA -> coords (B, Z)."""

    def __init__(self, model, components, mean):
        super().__init__()
        self.model = model
        self.pca = pca_.PCAForward(components, mean)

    def forward(self, tokens, lengths):
        return self.pca(self.model.encode_unrolled(tokens, lengths))


class SentenceModel(nn.Module):
    """Any sentence VAE that follows the small protocol below, seen as the exporter sees a TextVAE
    (`cfg`, `init`, `step`, `reconstruct`, `encode_unrolled`, `encode`). The protocol:

        model.embed                        an nn.Embedding (V, E): the token embedding
        model.init(z)                      z (B, Z) -> the decoder's first state (B, H)
        model.step(token, state, z)        token (B,) int64, state (B, H), z (B, Z) -> logits (B, V), state (B, H)
        model.encode_ids(tokens, lengths)  tokens (B, T) int64 (w1..wn </s> <pad>...), lengths (B,) int64 -> mu (B, Z)

    Ids are the tokenizer's: <pad> 0, <s> 1, </s> 2, <unk> 3. Every method must export to ONNX
    (no data-dependent Python control flow); encode_ids sees T = max_len."""

    def __init__(self, model, latent_size, max_len):
        super().__init__()
        for name in ("embed", "init", "step", "encode_ids"):
            if not hasattr(model, name):
                raise ArgumentError(f"the sentence model has no `{name}`: see exporter.export.text_modules.SentenceModel")
        if not isinstance(model.embed, nn.Embedding):
            raise ArgumentError(f"model.embed must be an nn.Embedding, got {type(model.embed).__name__}")
        self.model = model.eval()
        with torch.no_grad():
            hidden = model.init(torch.zeros(1, latent_size))
        from types import SimpleNamespace
        self.cfg = SimpleNamespace(latent_size=latent_size, vocab_size=model.embed.num_embeddings,
                                   hidden=int(hidden.shape[-1]), max_len=int(max_len))

    def init(self, z):
        return self.model.init(z)

    def step(self, token, hidden, z):
        return self.model.step(token, hidden, z)

    @torch.no_grad()
    def reconstruct(self, z, steps=None):
        from ..models.text_vae import greedy
        return greedy(self, self.init(z), z, steps or self.cfg.max_len)

    def greedy(self, hidden, z=None, steps=None):
        from ..models.text_vae import greedy
        return greedy(self, hidden, z, steps or self.cfg.max_len)

    def encode_unrolled(self, tokens, lengths):
        return self.model.encode_ids(tokens, lengths)

    def encode(self, tokens, lengths):
        return self.model.encode_ids(tokens, lengths), None


@torch.no_grad()
def step_inputs(model, z, seed=0):
    """Inputs for validating step.onnx: states along torch's greedy paths at a few steps, plus
    random tokens (so embedding rows greedy never visits are checked too). At most 4096 rows."""
    rng = np.random.default_rng(seed)
    T = model.cfg.max_len
    keep = {0, 1, 2, 4, 8, T - 1}
    hidden, token = model.init(z), torch.full((len(z),), BOS, dtype=torch.long)
    rows = []
    for t in range(T):
        if t in keep:
            rows.append((token, hidden))
        if t == 3:
            rows.append((torch.from_numpy(rng.integers(0, model.cfg.vocab_size, len(z))), hidden))
        logits, hidden = model.step(token, hidden, z)
        token = logits.argmax(-1)
    n = min(len(rows), 4096 // len(z))
    return {"token": torch.cat([r[0] for r in rows[:n]]).numpy(),
            "hidden": torch.cat([r[1] for r in rows[:n]]).numpy(),
            "z": z.repeat(n, 1).numpy()}


def encoder_rows(id_lists, max_len):
    """Encoder inputs for sentences given as id lists: w1..wn </s> (cut to max_len - 1 tokens
    first), <pad> after; and the lengths incl. </s>."""
    rows = [list(r)[:max_len - 1] + [EOS] for r in id_lists]
    tokens = np.full((len(rows), max_len), PAD, dtype=np.int64)
    for i, r in enumerate(rows):
        tokens[i, :len(r)] = r
    return {"tokens": tokens, "lengths": np.array([len(r) for r in rows], dtype=np.int64)}


def encoder_inputs(model, texts, tokenizer, seed=0):
    """Encoder inputs for sentences (text), plus random ids of random lengths, so rows no
    sentence reaches are checked too."""
    T = model.cfg.max_len
    ids = [tokenizer.encode(t) for t in texts]
    rng = np.random.default_rng(seed)
    n_random = max(64, 256 - len(ids))
    ids += [rng.integers(4, model.cfg.vocab_size, int(n)).tolist() for n in rng.integers(1, T, n_random)]
    return encoder_rows(ids, T)
