"""PCA on sentence latents, then the decoder as ONNX in one of two layouts, and the text bundle.

"step":     init.onnx  coords (B, k) -> z (B, Z), hidden (B, H)
            step.onnx  token (B,) int64, hidden (B, H), z (B, Z) -> logits (B, V), hidden_out (B, H)
            The browser loops: token = <s>, up to max_len steps, argmax, stop at </s>.
"unrolled": greedy.onnx coords (B, k) -> tokens (B, max_len) int64, logits (B, max_len, V)
            The greedy loop is unrolled at export time; it keeps going after </s>, the browser cuts.

Both are kept so the browser can measure which is faster. Besides the value checks of
`validate`, the greedy token sequences onnxruntime produces must equal torch's for every
validation coordinate: a near-tie flipped by float error changes the sentence the user reads.
"""
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import bundle, checkpoint
from ..atomic import check_name, slug
from ..errors import ArgumentError, AtolError, CheckpointError, ExportValidationError
from ..latents import PCAInverse, fit_pca, pca_manifest, pick_anchors, validation_coords
from ..models.text_vae import BOS, EOS, PAD, UNK
from ..onnx_export import GraphSpec, export, session, validate
from ..provenance import versions
from .tokenizer import Vocab
from .train import KIND_LM, LM_DIR, TextTrainConfig, load_corpus, load_text_model

log = logging.getLogger("latent_explorer")
VARIANTS = ("step", "unrolled")


class TokenMismatchError(ExportValidationError):
    """onnxruntime's greedy decoding yields other tokens than torch's for some coordinates."""


class PCAInit(nn.Module):
    """coords (B, k) -> z (B, Z) through the PCA inverse, and the decoder's first hidden state."""

    def __init__(self, model, components, mean):
        super().__init__()
        self.model = model
        self.pca = PCAInverse(components, mean)

    def forward(self, coords):                       # (B, k)
        z = self.pca(coords)                         # (B, Z)
        return z, self.model.init(z)                 # (B, Z), (B, H)


class Step(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, token, hidden, z):             # (B,) int64, (B, H), (B, Z)
        return self.model.step(token, hidden, z)     # logits (B, V), hidden_out (B, H)


class PCAGreedy(nn.Module):
    """coords (B, k) -> greedy tokens (B, T) and their logits (B, T, V), T = max_len, loop unrolled."""

    def __init__(self, model, components, mean):
        super().__init__()
        self.init = PCAInit(model, components, mean)

    def forward(self, coords):
        z, hidden = self.init(coords)
        return self.init.model.greedy(hidden, z)


def graph_specs(variant, k, cfg, atol):
    f32 = "float32"
    if variant == "step":
        return {"init": GraphSpec("init.onnx", {"coords": {"dtype": f32, "shape": ["batch", k]}},
                                  {"z": {"dtype": f32, "shape": ["batch", cfg.latent_size]},
                                   "hidden": {"dtype": f32, "shape": ["batch", cfg.hidden]}}, atol),
                "step": GraphSpec("step.onnx", {"token": {"dtype": "int64", "shape": ["batch"]},
                                                "hidden": {"dtype": f32, "shape": ["batch", cfg.hidden]},
                                                "z": {"dtype": f32, "shape": ["batch", cfg.latent_size]}},
                                  {"logits": {"dtype": f32, "shape": ["batch", cfg.vocab_size]},
                                   "hidden_out": {"dtype": f32, "shape": ["batch", cfg.hidden]}}, atol)}
    if variant != "unrolled":
        raise ArgumentError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    return {"greedy": GraphSpec("greedy.onnx", {"coords": {"dtype": f32, "shape": ["batch", k]}},
                                {"tokens": {"dtype": "int64", "shape": ["batch", cfg.max_len]},
                                 "logits": {"dtype": f32, "shape": ["batch", cfg.max_len, cfg.vocab_size]}}, atol)}


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


def export_text_bundle(model, latents, vocab, out, *, k=5, anchors_text, name=None, title=None, provenance=None,
                       atol=1e-4, seed=0, variant="unrolled", dataset=None, n_anchors=30, range_sigma=3.0):
    """Export a TextVAE's decoder and the PCA of `latents` (N, Z), e.g. posterior means of the
    training sentences, as a text bundle in `out`, in the given graph `variant`.

    `anchors_text` (N,) is the sentence behind each latent row, or None for rows that must not be
    anchors (e.g. holding <unk>). Raises ExportValidationError (TokenMismatchError when greedy
    tokens differ) and leaves any bundle already at `out` untouched."""
    latents = np.asarray(latents, dtype=np.float32)
    if latents.ndim != 2 or latents.shape[1] != model.cfg.latent_size or not np.isfinite(latents).all():
        raise ArgumentError(f"latents must be a finite (N, {model.cfg.latent_size}) array, got shape {latents.shape}")
    if len(anchors_text) != len(latents):
        raise ArgumentError(f"anchors_text has {len(anchors_text)} rows, latents {len(latents)}")
    if len(vocab) != model.cfg.vocab_size:
        raise ArgumentError(f"vocab has {len(vocab)} tokens, the model {model.cfg.vocab_size}")
    name = check_name(name, "name") if name is not None else slug(dataset or "text-model")
    model = model.eval()
    pca = fit_pca(latents, k)
    std = np.sqrt(pca.explained_variance_)
    eligible = [i for i, t in enumerate(anchors_text) if t]
    anchor_idx = [eligible[j] for j in pick_anchors(None, n_anchors, seed, len(eligible))]
    anchor_coords = pca.transform(latents[anchor_idx].astype(np.float64)).astype(np.float32)
    coords = np.concatenate([validation_coords(std, seed=seed), anchor_coords])
    specs = graph_specs(variant, k, model.cfg, atol)
    init = PCAInit(model, pca.components_, pca.mean_).eval()
    with torch.no_grad():
        z = init(torch.from_numpy(coords))[0]
        expected = model.reconstruct(z)[0].numpy()           # torch's greedy tokens (N, max_len)
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
            check_tokens(tmp / "step.onnx", expected, ort_greedy_step(tmp, coords, model.cfg.max_len), vocab)
        else:
            greedy, path = PCAGreedy(model, pca.components_, pca.mean_).eval(), tmp / "greedy.onnx"
            export(greedy, [example], path, specs["greedy"])
            try:
                validate(path, greedy, specs["greedy"], {"coords": coords})
            except AtolError:  # say which sentences changed, if that is what happened
                check_tokens(path, expected, session(path).run(["tokens"], {"coords": coords})[0], vocab)
                raise
            check_tokens(path, expected, session(path).run(["tokens"], {"coords": coords})[0], vocab)
        (tmp / "vocab.json").write_text(json.dumps(vocab.to_json(), ensure_ascii=False) + "\n", encoding="utf-8")
        manifest = bundle.write_manifest(tmp, {
            "name": name,
            "title": title or name,
            "kind": "text",
            "graphs": {key: spec.to_json() for key, spec in specs.items()},
            "text": {"vocab": "vocab.json", "specials": {"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS},
                     "max_len": model.cfg.max_len, "variant": variant},
            **pca_manifest(pca, latents.shape[1], range_sigma),
            "dataset": {"name": dataset, "label_names": [], "n_latents": len(latents)},
            "anchors": [{"index": int(i), "label": None, "text": anchors_text[i], "coords": c.tolist()}
                        for i, c in zip(anchor_idx, anchor_coords)],
            "provenance": {"versions": versions(), **(provenance or {})},
        })
    log.info("wrote %s (%s): k=%d, explained variance %.1f%%, greedy tokens identical on %d coords",
             out, variant, k, 100 * pca.explained_variance_ratio_.sum(), len(coords))
    return manifest


@torch.no_grad()
def encode_means(model, data, batch_size=512):
    """Posterior means mu for every sentence of a Corpus, (N, Z), in row order."""
    model.eval()
    return torch.cat([model.encode(*data.batch(idx)[1:])[0] for idx in data.batches(batch_size)]).numpy()


def export_text_run(run_dir, out, k=5, name=None, variant="unrolled", atol=1e-4):
    """PCA on the training sentences' latent means of a trained run, then export_text_bundle.
    Test metrics of the LM baseline are taken from `<run_dir>/lm` when it has been trained."""
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
    return export_text_bundle(model, encode_means(model, data.train), vocab, out, k=k, anchors_text=texts,
                              name=name, title=f"{dataset} sentences (text VAE)", provenance=provenance,
                              atol=atol, seed=cfg.seed, variant=variant, dataset=dataset)
