"""Training the sentence VAE (`train_text`) and its language-model baseline (`train_lm`) on one
corpus: the data as padded id tensors, the loss, the test metrics. The loop itself is `loop.fit`;
`batch_loss` is the one place that tells a VAE (which also returns mu, logvar) from a language
model. Checkpoints also hold the vocabulary and a digest of the split, so a run notices a
changed corpus.

Posterior collapse (the decoder ignoring z) is fought three ways, all in the config: word
dropout (in the model), a KL weight annealed from 0 to 1, and free bits (Kingma et al. 2016):
each latent dimension's batch-mean KL is only penalized above `free_bits` nats.
"""
import hashlib
import json
import math
from pathlib import Path

import torch

from ..configs import TextTrainConfig, TextVAEConfig
from ..data.sentences import prepare, read_sentence_file, read_wordnet
from ..errors import ArgumentError, CheckpointError
from ..models.text_vae import BOS, EOS, GRULM, PAD, TextVAE, reconstruction
from ..models.vae import kl_per_dim
from ..tokenizers.words import Vocab, tokenize
from . import loop

KIND_VAE, KIND_LM = "text-vae", "text-lm"
LM_DIR = "lm"  # the baseline's run folder, inside the VAE's


def kl_weight(cfg, step):
    if cfg.kl_anneal_steps <= 0:
        return 1.0
    if cfg.kl_anneal == "linear":
        return min(1.0, step / cfg.kl_anneal_steps)
    if cfg.kl_anneal != "logistic":
        raise ArgumentError(f"kl_anneal must be 'logistic' or 'linear', got {cfg.kl_anneal!r}")
    return 1.0 / (1.0 + math.exp(-10.0 * (step / cfg.kl_anneal_steps - 0.5)))


class Corpus:
    """The split as padded id tensors. Row i of `inputs` is <s> w1..wn, of `targets` w1..wn </s>."""

    def __init__(self, token_lists, vocab, max_tokens):
        n, t = len(token_lists), max_tokens + 1
        self.tokens = token_lists
        self.inputs = torch.full((n, t), PAD, dtype=torch.long)
        self.targets = torch.full((n, t), PAD, dtype=torch.long)
        self.lengths = torch.tensor([len(s) + 1 for s in token_lists], dtype=torch.long)
        for i, s in enumerate(token_lists):
            ids = torch.tensor(vocab.encode(s), dtype=torch.long)
            self.inputs[i, 0], self.inputs[i, 1:len(s) + 1] = BOS, ids
            self.targets[i, :len(s)], self.targets[i, len(s)] = ids, EOS

    def __len__(self):
        return len(self.tokens)

    def batch(self, idx):
        """Rows idx, cut to their longest sentence: (inputs (B, T), targets (B, T), lengths (B,))."""
        t = int(self.lengths[idx].max())
        return self.inputs[idx, :t], self.targets[idx, :t], self.lengths[idx]

    def batches(self, batch_size, generator=None):
        """Index batches. With a generator: shuffled, then sorted by length within chunks of 50
        batches, so a batch pads little (about half the CPU time) and its order is still random."""
        n = len(self)
        if generator is None:
            return list(torch.arange(n).split(batch_size))
        out = []
        for chunk in torch.randperm(n, generator=generator).split(50 * batch_size):
            out += chunk[torch.argsort(self.lengths[chunk], stable=True)].split(batch_size)
        return [out[i] for i in torch.randperm(len(out), generator=generator)]


def load_corpus(cfg: TextTrainConfig, vocab=None):
    """(dataset name, vocab, Split of Corpus, digest). The vocab is built from the training split
    unless given; the digest fingerprints the split so a run notices a changed corpus."""
    if cfg.sentences:
        name, sentences, source = Path(cfg.sentences).stem, read_sentence_file(cfg.sentences), cfg.sentences
    else:
        name, sentences, source = "wordnet", read_wordnet(), "wordnet"
    split = prepare(sentences, tokenize, max_tokens=cfg.max_tokens, seed=cfg.seed, source=source)
    vocab = vocab or Vocab.build(split.train, cfg.vocab_size)
    digest = hashlib.sha256(json.dumps(split, ensure_ascii=False).encode()).hexdigest()
    return name, vocab, type(split)(*(Corpus(part, vocab, cfg.max_tokens) for part in split)), digest


def batch_loss(model, batch, w, free_bits, vae=True):
    """Training objective for one batch, plus per-sentence (reconstruction, kl) for logging.
    `vae` says whether `model` (maybe wrapped for several processes) returns mu and logvar too."""
    inputs, targets, lengths = batch
    if vae:
        logits, mu, logvar = model(inputs, targets, lengths)
        rec, kl = reconstruction(logits, targets), kl_per_dim(mu, logvar)      # (B,), (B, Z)
        kl_term = kl.mean(0).clamp(min=free_bits).sum() if free_bits > 0 else kl.sum(1).mean()
        return rec.mean() + w * kl_term, rec, kl.sum(1)
    rec = reconstruction(model(inputs), targets)
    return rec.mean(), rec, torch.zeros_like(rec)


def to(tensors, model):
    """Tensors moved to the device the model is on."""
    device = next(model.parameters()).device
    return [t.to(device) for t in tensors]


@torch.no_grad()
def evaluate(model, data: "Corpus", seed=0, accuracy=True, batch_size=256):
    """Test metrics per sentence in nats (tokens counted incl. </s>).

    VAE: nll = reconstruction + KL with one posterior sample (the negative ELBO, an upper bound
    on the true NLL); token_accuracy of free-running greedy decoding from mu for max_len steps
    (what the browser does), position by position against w1..wn </s>; exact_match = whole
    sentences right. LM: nll is exact. perplexity = exp(total nll / total tokens)."""
    model.eval()
    rec_sum = kl_sum = correct = exact = 0.0
    mus = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for idx in data.batches(batch_size):
            _, rec, kl = batch_loss(model, to(data.batch(idx), model), 1.0, 0.0, isinstance(model, TextVAE))
            rec_sum, kl_sum = rec_sum + rec.sum().item(), kl_sum + kl.sum().item()
            if isinstance(model, TextVAE) and accuracy:
                _, targets, lengths = to(data.batch(idx), model)
                mu, _ = model.encode(targets, lengths)
                mus.append(mu)
                tokens, _ = model.reconstruct(mu)                              # (B, max_len)
                t = min(tokens.shape[1], targets.shape[1])
                hit = (tokens[:, :t] == targets[:, :t]) & (targets[:, :t] != PAD)
                correct += hit.sum().item()
                exact += (hit.sum(1) == lengths).sum().item()
    n, tokens = len(data), int(data.lengths.sum())
    m = {"nll": (rec_sum + kl_sum) / n, "perplexity": math.exp((rec_sum + kl_sum) / tokens),
         "n_sentences": n, "n_tokens": tokens}
    if isinstance(model, TextVAE):
        m.update(reconstruction=rec_sum / n, kl=kl_sum / n)
        if accuracy:
            m.update(token_accuracy=correct / tokens, exact_match=exact / n,
                     active_units=int((torch.cat(mus).var(0) > 0.01).sum()))
    return m


class SentenceTask(loop.Task):
    """The sentence VAE; `LMTask` below is its baseline on the same split and vocabulary."""
    kind, grad_clip = KIND_VAE, None

    def __init__(self, cfg: TextTrainConfig, model_cfg: TextVAEConfig, state=None):
        super().__init__(cfg, model_cfg, state)
        self.grad_clip = cfg.grad_clip
        vocab = Vocab.from_json(state["vocab"]) if state else None
        self.name, self.vocab, self.data, self.digest = load_corpus(cfg, vocab)
        if state and state["corpus_digest"] != self.digest:
            raise CheckpointError(f"{cfg.sentences or 'wordnet'}: the corpus changed since this run started; "
                                  "train a new run")
        model_cfg.vocab_size, model_cfg.max_len = len(self.vocab), cfg.max_tokens + 1
        self.label = f"{'VAE' if self.kind == KIND_VAE else 'LM'} {self.name}"

    def build(self):
        return TextVAE(self.model_cfg)

    def n_train(self):
        return len(self.data.train)

    def batches(self, generator):
        return self.data.train.batches(self.cfg.batch_size, generator)

    def loss(self, model, idx, epoch, step):
        batch = [t.to(self.device) for t in self.data.train.batch(idx)]
        loss, rec, kl = batch_loss(model, batch, kl_weight(self.cfg, step), self.cfg.free_bits, self.kind == KIND_VAE)
        return loss, {"loss": loss.item() * len(idx), "reconstruction": rec.sum().item(), "kl": kl.sum().item()}

    def record(self, epoch, step):
        return {"kl_weight": kl_weight(self.cfg, step)}

    def validate(self, model):
        valid = evaluate(model, self.data.valid, seed=self.cfg.seed, accuracy=False)
        return {"valid_nll": valid["nll"], "valid_kl": valid.get("kl", 0.0)}

    def evaluate(self, model):
        return evaluate(model, self.data.test, seed=self.cfg.seed)

    def extra_state(self):
        return {"dataset": self.name, "vocab": self.vocab.to_json(), "corpus_digest": self.digest}


class LMTask(SentenceTask):
    kind = KIND_LM

    def build(self):
        return GRULM(self.model_cfg)

    def record(self, epoch, step):
        return {}


def train_text(cfg: TextTrainConfig, model_cfg: TextVAEConfig, run_dir, resume=False, epochs=None, progress=True,
               device="auto"):
    """Train (or resume) the sentence VAE in `run_dir`; returns the final checkpoint payload."""
    return loop.fit(SentenceTask, cfg, model_cfg, run_dir, resume, epochs, progress, device)


def train_lm(cfg: TextTrainConfig, model_cfg: TextVAEConfig, run_dir, resume=False, epochs=None, progress=True,
             device="auto"):
    """Train (or resume) the GRULM baseline on the same split; by convention run_dir is
    `<vae run>/lm` (LM_DIR), where export_text_run looks for its test metrics."""
    return loop.fit(LMTask, cfg, model_cfg, run_dir, resume, epochs, progress, device)


def load_text_model(run_dir, kind=KIND_VAE):
    """Rebuild a trained TextVAE (or GRULM) from its run folder: (model in eval mode, payload)."""
    return loop.load(run_dir, kind, TextVAE if kind == KIND_VAE else GRULM, TextVAEConfig)
