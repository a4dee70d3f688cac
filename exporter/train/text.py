"""Training the sentence VAE (`train_text`) and its language-model baseline (`train_lm`) on one
corpus: the data as padded id tensors, the loss, the schedules. The loop itself is `loop.fit`;
the test metrics are in `text_metrics.py`. Checkpoints also hold the tokenizer (tokenizer.json)
and a digest of the split, so a run notices a changed corpus.

Keeping information in z (posterior collapse: the decoder ignoring z) takes several controls,
all in TextTrainConfig / TextVAEConfig, with the defaults a sweep chose (README, "Shipped
models"): word dropout (in the model), a KL weight annealed cyclically (Fu et al. 2019) after
optional autoencoder pre-training, free bits (Kingma et al. 2016: each latent dimension's
batch-mean KL is only penalized above `free_bits` nats), a bidirectional encoder, and a
learning rate decayed along a cosine per step.
"""
import hashlib
import json
import math
from pathlib import Path

import torch

from ..configs import TextTrainConfig, TextVAEConfig
from ..data.sentences import Split, prepare, read_sentence_file, read_wordnet
from ..errors import ArgumentError, CheckpointError, DataError
from ..models.text_vae import BOS, EOS, GRULM, PAD, TextVAE, reconstruction
from ..models.vae import kl_per_dim
from ..tokenizers.bpe import SentenceTokenizer, normalize
from . import loop, text_metrics

KIND_VAE, KIND_LM = "text-vae", "text-lm"
LM_DIR = "lm"  # the baseline's run folder, inside the VAE's
ANNEALS = ("cyclical", "linear", "logistic")


def kl_weight(cfg: TextTrainConfig, step, steps_per_epoch):
    """The KL weight of optimizer step `step`: 0 during autoencoder pre-training (ae_epochs),
    then rising to beta: linearly, along a logistic, or in kl_cycles cycles that each rise
    linearly over their first kl_ratio share and then hold beta (Fu et al. 2019)."""
    pre = int(cfg.ae_epochs * steps_per_epoch)
    if step < pre:
        return 0.0
    s = step - pre
    if cfg.kl_anneal == "cyclical":
        period = max(1.0, (cfg.epochs * steps_per_epoch - pre) / max(cfg.kl_cycles, 1))
        return cfg.beta * min(1.0, (s % period) / period / cfg.kl_ratio) if cfg.kl_ratio > 0 else cfg.beta
    if cfg.kl_anneal_steps <= 0:
        return cfg.beta
    if cfg.kl_anneal == "linear":
        return cfg.beta * min(1.0, s / cfg.kl_anneal_steps)
    if cfg.kl_anneal == "logistic":
        return cfg.beta / (1.0 + math.exp(-10.0 * (s / cfg.kl_anneal_steps - 0.5)))
    raise ArgumentError(f"kl_anneal must be one of {', '.join(ANNEALS)}, got {cfg.kl_anneal!r}")


def lr_factor(cfg: TextTrainConfig, step, total_steps):
    """Share of cfg.lr at optimizer step `step`: a cosine from 1 down to lr_min, or constant 1."""
    if cfg.lr_schedule == "constant":
        return 1.0
    if cfg.lr_schedule != "cosine":
        raise ArgumentError(f"lr_schedule must be 'cosine' or 'constant', got {cfg.lr_schedule!r}")
    return cfg.lr_min + (1 - cfg.lr_min) * 0.5 * (1 + math.cos(math.pi * min(step / max(total_steps, 1), 1.0)))


class Corpus:
    """One part of the split as padded id tensors. Row i of `inputs` is <s> w1..wn, of `targets`
    w1..wn </s>; `texts` are the normalized sentences, `ids` their token ids."""

    def __init__(self, texts, id_lists, max_tokens):
        n, t = len(id_lists), max_tokens + 1
        self.texts, self.ids = list(texts), [list(i) for i in id_lists]
        self.inputs = torch.full((n, t), PAD, dtype=torch.long)
        self.targets = torch.full((n, t), PAD, dtype=torch.long)
        self.lengths = torch.tensor([len(s) + 1 for s in id_lists], dtype=torch.long)
        for i, s in enumerate(self.ids):
            ids = torch.tensor(s, dtype=torch.long)
            self.inputs[i, 0], self.inputs[i, 1:len(s) + 1] = BOS, ids
            self.targets[i, :len(s)], self.targets[i, len(s)] = ids, EOS

    def __len__(self):
        return len(self.ids)

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

    def n_batches(self, batch_size):
        """len(self.batches(batch_size, generator)), without drawing."""
        full, rest = divmod(len(self), 50 * batch_size)
        return full * 50 + math.ceil(rest / batch_size)


def load_corpus(cfg: TextTrainConfig, tokenizer=None):
    """(dataset name, tokenizer, Split of Corpus, digest). The tokenizer is learnt on the
    training split unless given; sentences over max_tokens tokens are then dropped from every
    part. The digest fingerprints the split so a run notices a changed corpus."""
    if cfg.sentences:
        name, sentences, source = Path(cfg.sentences).stem, read_sentence_file(cfg.sentences), cfg.sentences
    else:
        name, sentences, source = "wordnet", read_wordnet(), "wordnet"
    split = prepare(sentences, normalize, seed=cfg.seed, source=source)
    tokenizer = tokenizer or SentenceTokenizer.train(split.train, cfg.vocab_size, cfg.min_frequency)
    parts = []
    for texts in split:
        kept = [(t, i) for t, i in zip(texts, tokenizer.encode_batch(texts)) if 0 < len(i) <= cfg.max_tokens]
        parts.append(Corpus([t for t, _ in kept], [i for _, i in kept], cfg.max_tokens))
    if not len(parts[0]):
        raise DataError(source, f"no usable sentence (all empty or longer than {cfg.max_tokens} tokens)")
    for part, texts in zip(("validation", "test"), parts[1:]):
        if not len(texts):
            raise DataError(source, f"too few usable sentences: the {part} split (5%) is empty; "
                                    f"give at least 40 distinct sentences of at most {cfg.max_tokens} tokens")
    digest = hashlib.sha256(json.dumps([[p.texts, p.ids] for p in parts] + [tokenizer.to_json()],
                                       ensure_ascii=False).encode()).hexdigest()
    return name, tokenizer, Split(*parts), digest


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


class SentenceTask(loop.Task):
    """The sentence VAE; `LMTask` below is its baseline on the same split and tokenizer."""
    kind, grad_clip = KIND_VAE, None

    def __init__(self, cfg: TextTrainConfig, model_cfg: TextVAEConfig, state=None):
        super().__init__(cfg, model_cfg, state)
        for key, options in (("kl_anneal", ANNEALS), ("lr_schedule", ("cosine", "constant"))):
            if getattr(cfg, key) not in options:
                raise ArgumentError(f"{key} must be one of {', '.join(options)}, got {getattr(cfg, key)!r}")
        self.grad_clip = cfg.grad_clip
        tokenizer = SentenceTokenizer.from_json(state["tokenizer"]) if state else None
        self.name, self.tokenizer, self.data, self.digest = load_corpus(cfg, tokenizer)
        if state and state["corpus_digest"] != self.digest:
            raise CheckpointError(f"{cfg.sentences or 'wordnet'}: the corpus changed since this run started; "
                                  "train a new run")
        model_cfg.vocab_size, model_cfg.max_len = len(self.tokenizer), cfg.max_tokens + 1
        self.steps_per_epoch = self.data.train.n_batches(cfg.batch_size)
        self.label = f"{'VAE' if self.kind == KIND_VAE else 'LM'} {self.name}"

    def build(self):
        return TextVAE(self.model_cfg)

    def n_train(self):
        return len(self.data.train)

    def batches(self, generator):
        return self.data.train.batches(self.cfg.batch_size, generator)

    def kl_weight(self, step):
        return kl_weight(self.cfg, step, self.steps_per_epoch)

    def lr_factor(self, step):
        return lr_factor(self.cfg, step, self.cfg.epochs * self.steps_per_epoch)

    def loss(self, model, idx, epoch, step):
        batch = [t.to(self.device) for t in self.data.train.batch(idx)]
        loss, rec, kl = batch_loss(model, batch, self.kl_weight(step), self.cfg.free_bits, self.kind == KIND_VAE)
        return loss, {"loss": loss.item() * len(idx), "reconstruction": rec.sum().item(), "kl": kl.sum().item()}

    def record(self, epoch, step):
        return {"kl_weight": self.kl_weight(step), "lr": self.cfg.lr * self.lr_factor(step)}

    def validate(self, model):
        valid = text_metrics.evaluate(model, self.data.valid, seed=self.cfg.seed, accuracy=False)
        return {"valid_nll": valid["nll"], "valid_kl": valid.get("kl", 0.0)}

    def evaluate(self, model):
        return text_metrics.test_metrics(model, self.data.test, self.tokenizer, self.cfg)

    def extra_state(self):
        return {"dataset": self.name, "tokenizer": self.tokenizer.to_json(), "corpus_digest": self.digest}


class LMTask(SentenceTask):
    kind = KIND_LM

    def build(self):
        return GRULM(self.model_cfg)

    def record(self, epoch, step):
        return {"lr": self.cfg.lr * self.lr_factor(step)}


def train_text(cfg: TextTrainConfig, model_cfg: TextVAEConfig, run_dir, resume=False, epochs=None, progress=True,
               device="auto"):
    """Train (or resume) the sentence VAE in `run_dir`; returns the final checkpoint payload."""
    return loop.fit(SentenceTask, cfg, model_cfg, run_dir, resume, epochs, progress, device)


def train_lm(cfg: TextTrainConfig, model_cfg: TextVAEConfig, run_dir, resume=False, epochs=None, progress=True,
             device="auto"):
    """Train (or resume) the GRULM baseline on the same split; by convention run_dir is
    `<vae run>/lm` (LM_DIR), where `compare_with_lm` and export_text_run look for it. Its
    dropout is cfg.lm_dropout; every other size is model_cfg's."""
    from dataclasses import replace
    return loop.fit(LMTask, cfg, replace(model_cfg, dropout=cfg.lm_dropout), run_dir, resume, epochs, progress, device)


def load_text_model(run_dir, kind=KIND_VAE):
    """Rebuild a trained TextVAE (or GRULM) from its run folder: (model in eval mode, payload)."""
    return loop.load(run_dir, kind, TextVAE if kind == KIND_VAE else GRULM, TextVAEConfig)


def compare_with_lm(run_dir):
    """Add the baseline's figures to the VAE's test metrics, in its checkpoint (atomically): the
    LM's test NLL and perplexity, the VAE's ELBO and importance-weighted NLL as ratios to it, and
    the LM's perplexity on the VAE's prior samples (a fluency figure). Returns the test metrics."""
    from . import checkpoint
    _, state = load_text_model(run_dir)
    lm, lm_state = load_text_model(Path(run_dir) / LM_DIR, KIND_LM)
    if lm_state["corpus_digest"] != state["corpus_digest"]:
        raise CheckpointError(f"{Path(run_dir) / LM_DIR}: trained on another split than the VAE in {run_dir}")
    state["test_metrics"] = text_metrics.with_baseline(state["test_metrics"], lm_state["test_metrics"], lm)
    checkpoint.save(run_dir, state)
    return state["test_metrics"]
