"""How a text bundle is held to torch and measured: greedy rows cut at </s>, the token-for-token
check, the decoder graph run in Python onnxruntime, anchors the model reconstructs exactly, and
how often int8 weights change a sentence."""
import logging
from pathlib import Path

import numpy as np
import torch

from ..bundle import MANIFEST, read_manifest
from ..errors import ArgumentError, BundleError, TokenMismatchError
from ..models.text_vae import EOS, cut
from ..space.points import pick_anchors
from .graphs import session

log = logging.getLogger("latent_explorer")

def sentence(tokenizer, ids):
    """Display text of a greedy row: cut at the first </s>."""
    return tokenizer.sentence(ids)


def check_tokens(path, expected, actual, tokenizer):
    """Raise TokenMismatchError unless the (N, T) token arrays are identical on the steps both
    ran (a loop stops once every row of its batch has emitted </s>, so each row's sentence lies
    within them), naming the first rows that differ."""
    expected, actual = np.asarray(expected), np.asarray(actual)
    T = min(expected.shape[1], actual.shape[1])
    rows = np.flatnonzero((expected[:, :T] != actual[:, :T]).any(1))
    if len(rows):
        raise TokenMismatchError(path, [f"{len(rows)} of {len(expected)} coordinates decode differently"] + [
            f"coords #{i}: torch {sentence(tokenizer, expected[i])!r}, onnxruntime {sentence(tokenizer, actual[i])!r}"
            for i in rows[:3]])


# text.variant -> the graphs role of its decoder (export/text.py, graph_specs)
DECODER_ROLE = {"loop": "loop", "unrolled": "greedy"}


def run_greedy(graph, coords):
    """Greedy tokens (N, T) of the decoder graph file `graph` (loop.onnx: T = the steps its batch
    took; greedy.onnx: T = max_len) in Python onnxruntime."""
    return session(graph).run(["tokens"], {"coords": np.asarray(coords, np.float32)})[0]


def ort_greedy(folder, coords):
    """Greedy tokens (N, T) of a text bundle's decoder in Python onnxruntime: the graph of the
    variant its manifest records (text.variant "loop": graphs.loop, "unrolled": graphs.greedy)."""
    m = read_manifest(folder)
    variant = m.text.variant if m.text is not None else None
    role = DECODER_ROLE.get(variant)
    if role not in m.graphs:
        raise BundleError(f"{Path(folder) / MANIFEST}: records neither a loop nor an unrolled sentence decoder "
                          f"(text.variant {variant!r}, graphs {', '.join(m.graphs)})")
    return run_greedy(Path(folder) / m.graphs[role].file, coords)


def anchor_fidelity(decoded, texts, tokenizer):
    """Greedy decodes from mu (N, T) against the anchors' own sentences: exact match and token
    accuracy (position by position over w1..wn </s>)."""
    hits = total = exact = 0
    for row, text in zip(decoded, texts):
        ref = tokenizer.encode(text) + [EOS]
        ok = sum(int(a == b) for a, b in zip(row, ref))
        hits, total, exact = hits + ok, total + len(ref), exact + (ok == len(ref))
    return {"n": len(texts), "exact_match": exact / max(len(texts), 1), "token_accuracy": hits / max(total, 1)}


LENGTH_BINS = (4, 7, 10, 14, 20)  # anchors are spread over token lengths up to these, and longer


@torch.no_grad()
def pick_exact_anchors(model, latents, texts, tokenizer, n, seed=0, candidates=4000):
    """Rows of `latents` whose text (not None) the model reconstructs exactly by greedy decoding
    from the row (mu): up to n of them, round-robin over token-length bins, so short and long
    sentences are both there; within a bin, in a seeded random order (topics mix). A model that
    reconstructs fewer than n exactly (a tiny test model) gets its best other rows after them, by
    token accuracy. Returns (rows, share of the tried candidates reconstructed exactly, number tried)."""
    rng = np.random.default_rng(seed)
    eligible = [i for i, t in enumerate(texts) if t]
    tried = sorted(rng.permutation(eligible)[:candidates].tolist())
    if not tried:
        raise ArgumentError("texts: no sentence to offer as an anchor")
    decoded = torch.cat([model.reconstruct(torch.from_numpy(latents[part]))[0]
                         for part in np.array_split(np.array(tried), max(1, len(tried) // 500))]).numpy()
    ids = {i: tokenizer.encode(texts[i]) for i in tried}
    exact = [i for i, row in zip(tried, decoded) if cut(row) == ids[i]]
    bins = np.digitize([len(ids[i]) for i in exact], LENGTH_BINS, right=True)
    picked = [exact[j] for j in pick_anchors(bins, n, seed)] if exact else []
    if len(picked) < n:
        log.warning("only %d of %d tried sentences are reconstructed exactly; the other anchors are the closest",
                    len(exact), len(tried))
        score = {i: np.mean([a == b for a, b in zip(row, ids[i] + [EOS])]) for i, row in zip(tried, decoded)}
        picked += sorted(set(tried) - set(exact), key=lambda i: (-score[i], i))[:n - len(picked)]
    return sorted(picked, key=lambda i: (len(ids[i]), texts[i])), len(exact) / len(tried), len(tried)


@torch.no_grad()
def quantization_identity(float_model, small_model, n=1000, seed=0):
    """Share of n prior samples z ~ N(0, I) that the model with the stored (rounded) decoder
    weights decodes greedily to exactly the float32 model's tokens (up to and incl. </s>)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        z = torch.randn(n, float_model.cfg.latent_size)
    a = [cut(r) for r in float_model.reconstruct(z)[0].tolist()]
    b = [cut(r) for r in small_model.reconstruct(z)[0].tolist()]
    return {"n": n, "identical": sum(x == y for x, y in zip(a, b)) / n}
