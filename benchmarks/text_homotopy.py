"""The README's homotopy (Bowman et al. 2016): two WordNet test sentences that the shipped
bundle reconstructs exactly, encoded by its encoder.onnx, and the greedy decodes of 7 evenly
spaced points on the straight line between them, all in Python onnxruntime on the bundle's own
files (what the element's interpolation table shows). Prints a Markdown (t, sentence) table.

    python benchmarks/text_homotopy.py models/wordnet-sentences [--seed 0]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exporter.data.sentences import prepare, read_wordnet  # noqa: E402
from exporter.export.graphs import session  # noqa: E402
from exporter.export.text_checks import ort_greedy  # noqa: E402
from exporter.export.text_modules import encoder_rows  # noqa: E402
from exporter.models.text_vae import cut  # noqa: E402
from exporter.tokenizers.bpe import SentenceTokenizer, normalize  # noqa: E402
from exporter.train.text import TextTrainConfig  # noqa: E402


def decode(bundle, m, coords):
    return [cut(r) for r in ort_greedy(bundle, coords).tolist()]


def homotopy(bundle, seed=0, steps=7):
    """(first test sentence, last test sentence, [(t, decoded sentence)] for `steps` points)."""
    bundle = Path(bundle)
    m = json.loads((bundle / "manifest.json").read_text())
    tok = SentenceTokenizer.from_json((bundle / m["text"]["tokenizer"]).read_text())
    test = prepare(read_wordnet(), normalize, seed=TextTrainConfig().seed, source="wordnet").test
    ids = [tok.encode(t) for t in test]
    keep = [i for i, r in enumerate(ids) if 6 <= len(r) <= 12]
    coords = session(bundle / "encoder.onnx").run(["coords"], encoder_rows([ids[i] for i in keep], m["text"]["max_len"]))[0]
    exact = [k for k, row in zip(keep, decode(bundle, m, coords)) if row == ids[k]]
    print(f"{len(exact)} of {len(keep)} test sentences of 6-12 tokens decode exactly from their encoding", file=sys.stderr)
    rng = np.random.default_rng(seed)
    i, j = rng.choice(exact, 2, replace=False)
    ci, cj = (coords[keep.index(k)] for k in (i, j))
    ts = np.linspace(0, 1, steps)
    rows = decode(bundle, m, [(1 - t) * ci + t * cj for t in ts])
    return test[i], test[j], [(float(t), tok.decode(r)) for t, r in zip(ts, rows)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=7)
    a = ap.parse_args()
    first, last, rows = homotopy(a.bundle, a.seed, a.steps)
    name = json.loads((Path(a.bundle) / "manifest.json").read_text())["name"]
    print(f"From \"{first}\" to \"{last}\" (test sentences), `{name}`:\n")
    print("| t | sentence |\n| --- | --- |")
    for t, text in rows:
        print(f"| {t:.2f} | {text} |")


if __name__ == "__main__":
    main()
