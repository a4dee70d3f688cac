"""A text bundle: the sentence decoder as ONNX in one of two layouts, the sentence encoder, and
the tokenizer's vocabulary. Coordinates are full PCA coordinates (coords (B, Z)).

"step":     init.onnx  coords (B, Z) -> z (B, Z), hidden (B, H)
            step.onnx  token (B,) int64, hidden (B, H), z (B, Z) -> logits (B, V), hidden_out (B, H)
            The browser loops: token = <s>, up to max_len steps, argmax, stop at </s>.
"unrolled": greedy.onnx coords (B, Z) -> tokens (B, max_len) int64, logits (B, max_len, V)
            The greedy loop is unrolled at export time; it keeps going after </s>, the browser cuts.
encoder.onnx tokens (B, max_len) int64 (w1..wn </s>, <pad> after), lengths (B,) int64 -> coords (B, Z)

Both decoder layouts are kept so the browser can measure which is faster. Besides the value
checks of `validate`, the greedy token sequences onnxruntime produces must equal torch's for every
validation coordinate, and each anchor must decode to exactly torch's greedy decode of its mu: a
near-tie flipped by float error changes the sentence the user reads.
"""
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import bundle
from ..atomic import check_name, slug
from ..bundle.schema import Anchor, Axis, Dataset, GraphSpec, Latent, Manifest, PCAInfo, Text
from ..errors import ArgumentError, AtolError, CheckpointError, TokenMismatchError
from ..models.text_vae import BOS, EOS, PAD, UNK
from ..provenance import versions
from ..space import pca as pca_
from ..space.points import pick_anchors, validation_coords
from ..tokenizers.words import Vocab, tokenize
from .graphs import export, session
from .validate import compare, validate

log = logging.getLogger("latent_explorer")
VARIANTS = ("step", "unrolled")


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


def graph_specs(variant, cfg, atol):
    """The decoder graphs of `variant`, then the encoder: coords are (batch, Z) everywhere."""
    f32, k = "float32", cfg.latent_size
    encoder = GraphSpec("encoder.onnx", {"tokens": {"dtype": "int64", "shape": ["batch", cfg.max_len]},
                                         "lengths": {"dtype": "int64", "shape": ["batch"]}},
                        {"coords": {"dtype": f32, "shape": ["batch", k]}}, atol)
    if variant == "step":
        return {"init": GraphSpec("init.onnx", {"coords": {"dtype": f32, "shape": ["batch", k]}},
                                  {"z": {"dtype": f32, "shape": ["batch", cfg.latent_size]},
                                   "hidden": {"dtype": f32, "shape": ["batch", cfg.hidden]}}, atol),
                "step": GraphSpec("step.onnx", {"token": {"dtype": "int64", "shape": ["batch"]},
                                                "hidden": {"dtype": f32, "shape": ["batch", cfg.hidden]},
                                                "z": {"dtype": f32, "shape": ["batch", cfg.latent_size]}},
                                  {"logits": {"dtype": f32, "shape": ["batch", cfg.vocab_size]},
                                   "hidden_out": {"dtype": f32, "shape": ["batch", cfg.hidden]}}, atol),
                "encoder": encoder}
    if variant != "unrolled":
        raise ArgumentError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    return {"greedy": GraphSpec("greedy.onnx", {"coords": {"dtype": f32, "shape": ["batch", k]}},
                                {"tokens": {"dtype": "int64", "shape": ["batch", cfg.max_len]},
                                 "logits": {"dtype": f32, "shape": ["batch", cfg.max_len, cfg.vocab_size]}}, atol),
            "encoder": encoder}


def sentence(vocab, ids):
    """Display text of a greedy row: cut at the first </s>."""
    ids = list(ids)
    return Vocab.detokenize(vocab.decode(ids[:ids.index(EOS)] if EOS in ids else ids))


def check_tokens(path, expected, actual, vocab):
    """Raise TokenMismatchError unless the (N, T) token arrays are identical, naming the first rows."""
    rows = np.flatnonzero((np.asarray(expected) != np.asarray(actual)).any(1))
    if len(rows):
        raise TokenMismatchError(path, [f"{len(rows)} of {len(expected)} coordinates decode differently"] + [
            f"coords #{i}: torch {sentence(vocab, expected[i])!r}, onnxruntime {sentence(vocab, actual[i])!r}"
            for i in rows[:3]])


def ort_greedy_step(folder, coords, max_len):
    """The browser's loop, in Python: init.onnx once, then step.onnx with argmax feedback."""
    init, step = session(folder / "init.onnx"), session(folder / "step.onnx")
    z, hidden = init.run(["z", "hidden"], {"coords": coords})
    token, out = np.full(len(coords), BOS, dtype=np.int64), []
    for _ in range(max_len):
        logits, hidden = step.run(["logits", "hidden_out"], {"token": token, "hidden": hidden, "z": z})
        token = logits.argmax(-1).astype(np.int64)
        out.append(token)
    return np.stack(out, 1)


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




def encoder_inputs(model, token_lists, vocab, seed=0):
    """Encoder inputs for sentences (token lists): w1..wn </s> padded to max_len, and lengths;
    plus random ids of random lengths, so rows no sentence reaches are checked too."""
    T = model.cfg.max_len
    rows = [vocab.encode(t)[:T - 1] + [EOS] for t in token_lists]
    rng = np.random.default_rng(seed)
    n_random = max(64, 256 - len(rows))
    rows += [rng.integers(0, model.cfg.vocab_size, int(n)).tolist() for n in rng.integers(1, T + 1, n_random)]
    tokens = np.full((len(rows), T), PAD, dtype=np.int64)
    for i, r in enumerate(rows):
        tokens[i, :len(r)] = r
    return {"tokens": tokens, "lengths": np.array([len(r) for r in rows], dtype=np.int64)}


def anchor_fidelity(decoded, texts, vocab):
    """Greedy decodes from mu (N, T) against the anchors' own sentences: exact match and token
    accuracy (position by position over w1..wn </s>)."""
    hits = total = exact = 0
    for row, text in zip(decoded, texts):
        ref = vocab.encode(tokenize(text)) + [EOS]
        ok = sum(int(a == b) for a, b in zip(row, ref))
        hits, total, exact = hits + ok, total + len(ref), exact + (ok == len(ref))
    return {"n": len(texts), "exact_match": exact / max(len(texts), 1), "token_accuracy": hits / max(total, 1)}


def export_text_bundle(model, latents, vocab, out, *, sliders=5, anchors_text, encoder_sentences=(), name=None,
                       title=None, provenance=None, metrics=None, atol=1e-4, seed=0, variant="unrolled",
                       dataset=None, n_anchors=30, range_sigma=3.0):
    """Export a TextVAE's decoder and encoder and the PCA of `latents` (N, Z), e.g. posterior
    means of the training sentences, as a text bundle in `out`, in the given decoder `variant`.

    `anchors_text` (N,) is the sentence behind each latent row, or None for rows that must not be
    anchors (e.g. holding <unk>). `encoder_sentences` (token lists) validate the encoder.
    Raises ExportValidationError (TokenMismatchError when greedy tokens differ) and leaves any
    bundle already at `out` untouched."""
    latents = np.asarray(latents, dtype=np.float32)
    if latents.ndim != 2 or latents.shape[1] != model.cfg.latent_size or not np.isfinite(latents).all():
        raise ArgumentError(f"latents must be a finite (N, {model.cfg.latent_size}) array, got shape {latents.shape}")
    if len(anchors_text) != len(latents):
        raise ArgumentError(f"anchors_text has {len(anchors_text)} rows, latents {len(latents)}")
    if len(vocab) != model.cfg.vocab_size:
        raise ArgumentError(f"vocab has {len(vocab)} tokens, the model {model.cfg.vocab_size}")
    name = check_name(name, "name") if name is not None else slug(dataset or "text-model")
    model = model.eval()
    pca = pca_.fit_pca(latents)
    std = pca_.std(pca)
    eligible = [i for i, t in enumerate(anchors_text) if t]
    anchor_idx = [eligible[j] for j in pick_anchors(None, n_anchors, seed, len(eligible))]
    anchor_coords = pca.transform(latents[anchor_idx].astype(np.float64)).astype(np.float32)
    coords = np.concatenate([validation_coords(std, seed=seed), anchor_coords])
    specs = graph_specs(variant, model.cfg, atol)
    init = PCAInit(model, pca.components_, pca.mean_).eval()
    with torch.no_grad():
        z = init(torch.from_numpy(coords))[0]
        expected = model.reconstruct(z)[0].numpy()                        # torch's greedy tokens (N, max_len)
        own = model.reconstruct(torch.from_numpy(latents[anchor_idx]))[0].numpy()  # each anchor's from its mu
    example = torch.from_numpy(coords[:2])
    with bundle.staged(out) as tmp:
        if variant == "step":
            export(init, [example], tmp / "init.onnx", specs["init"])
            validate(tmp / "init.onnx", init, specs["init"], {"coords": coords})
            inputs = step_inputs(model, z, seed)
            step = Step(model).eval()
            export(step, [torch.from_numpy(inputs[n][:2]) for n in ("token", "hidden", "z")],
                   tmp / "step.onnx", specs["step"])
            validate(tmp / "step.onnx", step, specs["step"], inputs)
            decoded, last = ort_greedy_step(tmp, coords, model.cfg.max_len), tmp / "step.onnx"
        else:
            greedy, last = PCAGreedy(model, pca.components_, pca.mean_).eval(), tmp / "greedy.onnx"
            export(greedy, [example], last, specs["greedy"])
            try:
                validate(last, greedy, specs["greedy"], {"coords": coords})
            except AtolError:  # say which sentences changed, if that is what happened
                check_tokens(last, expected, session(last).run(["tokens"], {"coords": coords})[0], vocab)
                raise
            decoded = session(last).run(["tokens"], {"coords": coords})[0]
        check_tokens(last, expected, decoded, vocab)
        check_tokens(last, own, decoded[-len(anchor_idx):], vocab)
        metrics = {**(metrics or {}), "anchors": anchor_fidelity(own, [anchors_text[i] for i in anchor_idx], vocab)}
        enc = PCASentenceEncoder(model, pca.components_, pca.mean_).eval()
        inputs = encoder_inputs(model, list(encoder_sentences)[:512], vocab, seed)
        export(enc, [torch.from_numpy(inputs[n][:2]) for n in ("tokens", "lengths")], tmp / "encoder.onnx",
               specs["encoder"])
        validate(tmp / "encoder.onnx", enc, specs["encoder"], inputs)
        with torch.no_grad():  # the unrolled encoder equals nn.GRU's, through the PCA
            mu = model.encode(torch.from_numpy(inputs["tokens"]), torch.from_numpy(inputs["lengths"]))[0]
        compare(tmp / "encoder.onnx", specs["encoder"], inputs,
                {"coords": pca.transform(mu.numpy().astype(np.float64)).astype(np.float32)}, "nn_gru")
        (tmp / "vocab.json").write_text(json.dumps(vocab.to_json(), ensure_ascii=False) + "\n", encoding="utf-8")
        manifest = bundle.write_manifest(tmp, Manifest(
            name=name, title=title or name, kind="text", graphs=specs,
            text=Text(tokenizer="vocab.json", specials={"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS},
                      max_len=model.cfg.max_len, variant=variant),
            latent=Latent(model.cfg.latent_size),
            pca=PCAInfo(mean=pca.mean_.tolist(), components=pca.components_.tolist(), std=std.tolist(),
                        explained_variance_ratio=pca.explained_variance_ratio_.tolist()),
            axes=[Axis(f"PC{i + 1}", -range_sigma * std[i], range_sigma * std[i], component=i)
                  for i in pca_.pick_sliders(pca, sliders)],
            anchors=[Anchor(int(i), None, c.tolist(), text=anchors_text[i]) for i, c in zip(anchor_idx, anchor_coords)],
            dataset=Dataset(dataset, [], len(latents)),
            provenance={"versions": versions(), **(provenance or {})},
            metrics=dict(metrics or {})))
    log.info("wrote %s (%s): Z=%d, greedy tokens identical on %d coords", out, variant, model.cfg.latent_size,
             len(coords))
    return manifest


def export_text_run(run_dir, out, sliders=5, name=None, variant="unrolled", atol=1e-4):
    """PCA on the training sentences' latent means of a trained run, then export_text_bundle.
    Test metrics of the LM baseline are taken from `<run_dir>/lm` when it has been trained."""
    from ..space.encode import sentence_means
    from ..train import checkpoint
    from ..train.text import KIND_LM, LM_DIR, TextTrainConfig, load_corpus, load_text_model
    bundle.check_out(out)
    model, state = load_text_model(run_dir)
    cfg = checkpoint.config(TextTrainConfig, state, "train_config", run_dir)
    vocab = Vocab.from_json(state["vocab"])
    dataset, _, data, digest = load_corpus(cfg, vocab)
    if digest != state["corpus_digest"]:
        raise CheckpointError(f"{run_dir}: the corpus changed since training; cannot name the anchors")
    lm_dir = Path(run_dir) / LM_DIR
    lm = checkpoint.load(lm_dir, kind=KIND_LM) if (lm_dir / checkpoint.FILENAME).is_file() else {}
    texts = [Vocab.detokenize(t) if all(w in vocab for w in t) else None for t in data.train.tokens]
    last = state["history"][-1] if state["history"] else {}
    provenance = {"config": {"model": state["model_config"], "train": state["train_config"]},
                  "seed": cfg.seed, "epochs": state["epoch"] + 1, "train_seconds": round(state["train_seconds"], 1),
                  "final_losses": {k_: last[k_] for k_ in ("loss", "reconstruction", "kl") if k_ in last},
                  "test_metrics": {"vae": state.get("test_metrics"), "lm": lm.get("test_metrics")},
                  "lm": {"epochs": lm["epoch"] + 1, "train_seconds": round(lm["train_seconds"], 1)} if lm else None,
                  "trained_with": state.get("versions")}
    return export_text_bundle(model, sentence_means(model, data.train), vocab, out, sliders=sliders,
                              anchors_text=texts, encoder_sentences=data.test.tokens, name=name,
                              title=f"{dataset} sentences (text VAE)", provenance=provenance, atol=atol,
                              seed=cfg.seed, variant=variant, dataset=dataset)
