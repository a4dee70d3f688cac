"""`latent-explorer` command line. The library raises typed errors; only this file turns them
into one-line messages and exit codes. Defaults come from the config dataclasses, and every
numeric flag is checked by argparse before any work starts."""
import argparse
import logging
import math
import os
import sys
import time
from dataclasses import fields
from pathlib import Path

from .configs import LATENT_SIZE, TextTrainConfig, TextVAEConfig, TrainConfig, VAEConfig
from .errors import ArgumentError, LatentExplorerError
from .space.attributes import ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
# The bundles shipped in a source checkout's models/; an installed package has none.
SHIPPED = ROOT / "models" if (ROOT / "pyproject.toml").is_file() and (ROOT / "models").is_dir() else None
DEMO_MARKER = ".latent-explorer-demo"


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (`error: argument --epochs: ...`) instead of usage + error."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def count(text):
    """argparse type: a positive integer (a count: epochs, sizes, components)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be a positive integer")
    return value


def natural(text):
    """argparse type: an integer >= 0 (a seed, warm-up epochs)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


def finite(low, inclusive):
    """argparse type: a finite float above `low` (or at least `low` when inclusive)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"{text} must be a finite number {'>=' if inclusive else '>'} {low:g}")
        return value
    return parse


def fraction(text):
    """argparse type: a finite number from 0 to 1 (a share: dropout, a part of a cycle)."""
    value = finite(0, True)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} must be a number from 0 to 1")
    return value


def given(a, cls, **rename):
    """The flags the user gave that set fields of `cls` (flag name, or rename[field] -> flag)."""
    out = {}
    for f in fields(cls):
        value = getattr(a, rename.get(f.name, f.name), None)
        if value is not None:
            out[f.name] = value
    return out


def refuse(a, flags, why):
    for flag in flags:
        if getattr(a, flag.lstrip("-").replace("-", "_"), None) is not None:
            raise ArgumentError(f"{flag}: {why}")


def main_process():
    """False in every torchrun worker but rank 0: only one process reports."""
    return os.environ.get("RANK", "0") == "0"


TEXT_FLAGS = ["--emb", "--encoder-hidden", "--bidirectional", "--word-dropout", "--dropout", "--free-bits",
              "--kl-anneal", "--kl-cycles", "--kl-ratio", "--kl-anneal-steps", "--ae-epochs", "--lr-schedule",
              "--vocab-size", "--max-tokens", "--min-frequency", "--lm-dropout", "--iw-samples", "--prior-samples"]


def cmd_train(a):
    run = Path(a.out)
    if a.sentences or a.dataset == "wordnet":
        refuse(a, ["--data", "--arch", "--channels", "--kl-warmup", "--limit"], "applies to image models only")
        return train_sentences(a, run)
    refuse(a, ["--sentences", *TEXT_FLAGS], "applies to sentence models only (--dataset wordnet or --sentences FILE)")
    from .train.image import train
    cfg = TrainConfig(**given(a, TrainConfig))
    arch = a.arch or VAEConfig.arch
    model_cfg = VAEConfig(**{"latent_size": LATENT_SIZE[arch], **given(a, VAEConfig), "arch": arch})
    state = train(cfg, model_cfg, run, resume=a.resume, epochs=a.epochs, device=a.device)
    if not main_process():
        return
    m = state.get("test_metrics") or {}
    print(f"trained {state['dataset']} for {state['epoch'] + 1} epochs in {state['train_seconds']:.0f}s -> {run}")
    if m:
        print(f"test per image: -ELBO {m['neg_elbo']:.2f} nats (reconstruction {m['reconstruction']:.2f}, "
              f"KL {m['kl']:.2f}), active units {m['active_units']}/{state['model_config']['latent_size']}")


def train_sentences(a, run):
    """The sentence VAE, then the plain GRU language model it is measured against (in RUN/lm),
    then the comparison of the two (written into the VAE's checkpoint)."""
    from .train import checkpoint
    from .train.text import LM_DIR, compare_with_lm, train_lm, train_text
    cfg = TextTrainConfig(**given(a, TextTrainConfig))
    model_cfg = TextVAEConfig(**given(a, TextVAEConfig))
    vae = train_text(cfg, model_cfg, run, resume=a.resume, epochs=a.epochs, device=a.device)
    lm_run = run / LM_DIR
    lm = train_lm(checkpoint.config(TextTrainConfig, vae, "train_config", run),
                  checkpoint.config(TextVAEConfig, vae, "model_config", run), lm_run,
                  resume=(lm_run / checkpoint.FILENAME).exists(), epochs=vae["train_config"]["epochs"], device=a.device)
    if not main_process():
        return
    v = compare_with_lm(run)
    print(f"trained {vae['dataset']} for {vae['epoch'] + 1} epochs in {vae['train_seconds']:.0f}s "
          f"(LM baseline {lm['train_seconds']:.0f}s) -> {run}")
    iw = f", importance-weighted (k={v['iw_samples']}) {v['nll_iw']:.2f} = {v['iw_vs_lm']:.3f}x the LM" if "nll_iw" in v else ""
    print(f"test per sentence: VAE ELBO NLL <= {v['nll']:.2f} nats = {v['elbo_vs_lm']:.3f}x the LM's {v['lm']['nll']:.2f}"
          f"{iw}; KL {v['kl']:.2f}; greedy from mu: token accuracy {100 * v['token_accuracy']:.1f}%, "
          f"exact match {100 * v['exact_match']:.1f}%")
    if "prior" in v:
        p = v["prior"]
        print(f"{p['n']} prior samples: {100 * p['distinct']:.1f}% distinct, LM perplexity on them "
              f"{p.get('lm_perplexity', float('nan')):.1f} (LM test perplexity {v['lm']['perplexity']:.1f})")


def cmd_export(a):
    from . import bundle
    from .atomic import check_name, slug
    from .train import checkpoint
    name = check_name(a.name, "--name") if a.name else slug(Path(a.out).resolve().name)
    bundle.check_out(a.out)
    if checkpoint.load(a.run).get("kind") == "text-vae":
        if a.weights == "float16":
            raise ArgumentError("--weights float16: sentence bundles store their embedding as float32 or int8")
        from .export.text import export_text_run
        m = export_text_run(a.run, a.out, sliders=a.sliders, name=name, variant=a.variant, weights=a.weights)
    else:
        from .export.image import export_run
        m = export_run(a.run, a.out, sliders=a.sliders, name=name, weights=a.weights)
    diff = max(d for g in m.graphs.values() for d in g.validation["max_abs_diff"].values())
    shown = sum(m.pca.explained_variance_ratio[a.component] for a in m.axes if a.component is not None)
    print(f"exported {a.out} ({m.kind}): Z={m.latent.size}, {len(m.axes)} sliders "
          f"({100 * shown:.1f}% of the variance), graphs {', '.join(m.graphs)}, "
          f"torch vs onnxruntime max abs diff {diff:.2g}")


def named(text, flag):
    """'NAME=REST' -> (NAME, REST); 'REST' -> (None, REST)."""
    name, eq, rest = text.partition("=")
    if not eq:
        return None, text
    if not name.strip():
        raise ArgumentError(f"{flag} {text}: empty name before '='")
    return name.strip(), rest


def read_values(path):
    """One value per training example from a .npy file or a one-column CSV file (an optional header
    line, which names the attribute): (name or None, values)."""
    import numpy as np

    from .errors import DataError
    p = Path(path)
    if not p.is_file():
        raise DataError(p, "no such file")
    if p.suffix == ".npy":
        try:
            return None, np.load(p, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(p, f"not a readable .npy file ({e})") from None
    header, values = None, []
    for number, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            values.append(float(line))
        except ValueError:
            if values or header is not None or "," in line:
                raise DataError(p, f"line {number}: {line[:40]!r} is not one number (give one value per line)") from None
            header = line
    return header, np.array(values)


def classes_pair(text, flag):
    """'A' or 'A:B' (class names or indices) -> (A, B or None)."""
    a, _, b = text.partition(":")
    if not a.strip() or (":" in text and not b.strip()):
        raise ArgumentError(f"{flag} {text}: give a class, or two as A:B")
    return a.strip(), b.strip() or None


def cmd_directions(a):
    from .bundle import read_manifest
    from .export.concepts import add_directions
    m = read_manifest(a.bundle)
    names = m.dataset.label_names

    def label(c):
        return names[int(c)] if c.isdigit() and int(c) < len(names) else c
    attribute_values = {}
    for text in a.attribute_file:
        name, path = named(text, "--attribute-file")
        header, values = read_values(path)
        attribute_values[name or header or Path(path).stem] = values
    class_means, probes = [], []
    for flag, texts, out, default in (("--class-mean", a.class_mean, class_means, "{}-vs-{}"),
                                      ("--probe", a.probe, probes, "probe-{}-vs-{}")):
        for text in texts:
            name, pair = named(text, flag)
            x, y = classes_pair(pair, flag)
            out.append((name or default.format(label(x), label(y) if y else "rest"), x, y))
    edits, vectors = {}, {}
    for text in a.edit:
        name, files = named(text, "--edit")
        before, _, after = files.partition(":")
        if not name or not after:
            raise ArgumentError(f"--edit {text}: give NAME=BEFORE.npy:AFTER.npy")
        edits[name] = tuple(read_values(f)[1] for f in (before, after))
    for text in a.vector:
        name, path = named(text, "--vector")
        if not name:
            raise ArgumentError(f"--vector {text}: give NAME=FILE.npy")
        vectors[name] = read_values(path)[1]
    conditions = {}
    for text in a.condition:
        primal, _, rest = text.partition(":")
        conditions[primal.strip()] = [c.strip() for c in rest.split(",") if c.strip()]
    classes = [c.strip() for c in a.classes.split(",")] if a.classes else None
    started = time.perf_counter()
    m = add_directions(a.bundle, data=a.data, dataset=a.dataset, classes=classes, attributes=a.attribute,
                       attribute_values=attribute_values, class_means=class_means, probes=probes,
                       probe_model=a.probe_model, edits=edits, vectors=vectors, transfer_from=getattr(a, "from"),
                       orthogonalize=[[n.strip() for n in g.split(",")] for g in a.orthogonalize],
                       conditions=conditions, active_only=not a.all_components, examples=a.examples, sigma=a.sigma,
                       map_points=a.map_points, seed=a.seed)
    d = m.directions
    print(f"wrote {a.bundle}: {len(d.items) if d else 0} direction(s), map of {m.map.count if m.map else 0} points, "
          f"typicality quantiles, in {time.perf_counter() - started:.1f}s")
    if d:
        width = max(len("direction"), *(len(i.name) for i in d.items))
        print(f"effect of moving {d.n_examples} examples from -{d.sigma:g}σ to +{d.sigma:g}σ, in attribute "
              "standard deviations (before orthogonalization in brackets):")
        print(f"  {'direction':{width}}" + "".join(f"{k:>18}" for k in d.attributes))
        for i in d.items:
            print(f"  {i.name:{width}}" + "".join(
                f"{e:+8.2f} ({r:+6.2f})" if i.orthogonal_to else f"{e:+8.2f}         "
                for e, r in zip(i.effect, i.effect_raw)))
        se = max(max(i.effect_se + i.effect_raw_se) for i in d.items)
        print(f"  (standard errors up to {se:.2f})")
        for i in d.items:
            if i.source["kind"] == "transfer":
                print(f"{i.name}: through a ridge map of {i.source['from']}'s codes to this bundle's, "
                      f"R² {i.source['map_r2_heldout']:.3f} on {i.source['n_heldout']} held-out images")

def cmd_site(a):
    from .site.build import build
    if not a.bundles and SHIPPED is None:
        raise ArgumentError("site: no bundles given (this installation ships none): "
                            "latent-explorer site BUNDLE_OR_FOLDER... --out DIR")
    names = build(a.out, a.bundles or [SHIPPED])
    print(f"built {a.out} with {len(names)} model(s): {', '.join(names)}")


def cmd_embed(a):
    """The files an embedding needs, and the HTML to paste, with URLs where the folder will be served."""
    from .site.build import build
    url = a.url or f"/{Path(a.out).resolve().name}/"
    if not url.endswith("/") or any(c in url for c in "\"'<> "):
        raise ArgumentError(f"--url {url!r}: give the URL the folder will be served at, ending in '/' "
                            "(e.g. /assets/latent-explorer/ or https://cdn.example.org/le/)")
    names = build(a.out, a.bundles, pages=False)
    print(f"wrote {a.out} with {len(names)} model(s); upload it so that it is served at {url}, then paste:\n")
    print(f'<script type="module" src="{url}latent-explorer.js"></script>')
    for name in names:
        print(f'<latent-explorer src="{url}models/{name}/manifest.json"></latent-explorer>')


def cmd_serve(a):
    from .site.serve import serve
    if not (Path(a.dir) / "index.html").is_file():
        raise LatentExplorerError(f"{a.dir}: not a built site (no index.html; run: latent-explorer site --out {a.dir})")
    serve(a.dir, a.port, isolate=not a.no_isolation, cors=a.cors)


def cmd_demo(a):
    """Train on the embedded digits, export, build the site, serve. Reuses a finished run.

    The work folder is ours only if it is new, empty, or marked by an earlier demo."""
    from .site.build import ort_dist
    work = Path(a.work)
    if work.exists() and not (work / DEMO_MARKER).is_file() and (not work.is_dir() or any(work.iterdir())):
        raise ArgumentError(f"{work}: exists and is not a latent-explorer demo folder; refusing to write into it "
                            "(move it away or choose another --work)")
    ort_dist()  # every dependency is checked before a minute of training
    from .export.image import export_run
    from .site.build import build
    from .site.serve import serve
    from .train.image import train
    work.mkdir(parents=True, exist_ok=True)
    (work / DEMO_MARKER).write_text("Made by `latent-explorer demo`, which may replace what is in this folder.\n")
    run, bundles = work / "runs" / "digits", work / "models"
    epochs = a.epochs or TrainConfig.epochs
    train(TrainConfig(epochs=epochs), VAEConfig(), run, resume=(run / "checkpoint.pt").exists(), epochs=epochs)
    export_run(run, bundles / "digits", name="digits")
    site = work / "site"
    shipped = [SHIPPED] if SHIPPED and any(SHIPPED.glob("*/manifest.json")) else []
    names = build(site, [bundles, *shipped])
    print(f"built {site} with {', '.join(names)}")
    if not a.no_serve:
        serve(site, a.port)


def parser():
    p = Parser(prog="latent-explorer", description=(
        "Train a VAE, export its decoder plus the PCA inverse to ONNX, and explore it live in the browser."))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    img, txt, vae, tvae = TrainConfig(), TextTrainConfig(), VAEConfig(), TextVAEConfig()

    t = sub.add_parser("train", help="train an image or sentence VAE and save a checkpoint in a run folder")
    t.add_argument("--dataset", help="images: digits (default, bundled with scikit-learn) or fashion-mnist; "
                   "sentences: wordnet (the example sentences of Debian's wordnet-base)")
    t.add_argument("--data", help="folder of MNIST-style IDX files, or an .npz file (x, optional y)")
    t.add_argument("--sentences", help="UTF-8 text file, one sentence per line: train a sentence VAE")
    t.add_argument("--out", required=True, help="run folder for checkpoint.pt (new or empty)")
    t.add_argument("--epochs", type=count,
                   help=f"epochs (default: images {img.epochs}, sentences {txt.epochs}); with --resume, the new total")
    t.add_argument("--arch", choices=tuple(LATENT_SIZE), help=f"images: architecture (default {vae.arch})")
    t.add_argument("--latent-size", type=count, help="dimension of z (default: " + ", ".join(
        f"{k} {v}" for k, v in LATENT_SIZE.items()) + f", sentences {tvae.latent_size})")
    t.add_argument("--hidden", type=count, help=f"hidden width (default {vae.hidden}; sentences: decoder GRU, "
                   f"{tvae.hidden})")
    t.add_argument("--channels", type=count, help=f"conv: channels of the first layer (default {vae.channels})")
    t.add_argument("--batch-size", type=count, help=f"default: images {img.batch_size}, sentences {txt.batch_size}")
    t.add_argument("--lr", type=finite(0, False), help=f"Adam learning rate (default: images {img.lr:g}, "
                   f"sentences {txt.lr:g}, the peak of a cosine decay)")
    t.add_argument("--beta", type=finite(0, True), help=f"KL weight after warm-up or annealing (default {img.beta:g})")
    t.add_argument("--kl-warmup", type=natural, help=f"images: epochs of linear KL warm-up (default {img.kl_warmup})")
    t.add_argument("--seed", type=natural, help=f"default {img.seed}")
    t.add_argument("--limit", type=count, help="images: train on only the first N training images (quick checks)")
    s_ = t.add_argument_group("sentence models (defaults: the recipe in README, Shipped models)")
    s_.add_argument("--emb", type=count, help=f"token embedding size, also the tied output layer's (default {tvae.emb})")
    s_.add_argument("--encoder-hidden", type=count, help=f"encoder GRU width per direction (default {tvae.encoder_hidden})")
    s_.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None,
                    help=f"encoder reads both ways (default {'on' if tvae.bidirectional else 'off'})")
    s_.add_argument("--word-dropout", type=fraction, help=f"share of decoder inputs replaced by <unk> "
                    f"(default {tvae.word_dropout:g})")
    s_.add_argument("--dropout", type=fraction, help=f"dropout on embeddings and decoder outputs (default {tvae.dropout:g})")
    s_.add_argument("--free-bits", type=finite(0, True), help=f"nats per latent dimension the KL term does not "
                    f"penalize, 0 = off (default {txt.free_bits:g})")
    s_.add_argument("--kl-anneal", choices=("cyclical", "linear", "logistic"),
                    help=f"KL weight schedule (default {txt.kl_anneal})")
    s_.add_argument("--kl-cycles", type=count, help=f"cyclical: cycles (default {txt.kl_cycles})")
    s_.add_argument("--kl-ratio", type=fraction, help=f"cyclical: share of a cycle spent rising (default {txt.kl_ratio:g})")
    s_.add_argument("--kl-anneal-steps", type=natural,
                    help=f"linear/logistic: steps to reach beta (default {txt.kl_anneal_steps})")
    s_.add_argument("--ae-epochs", type=finite(0, True),
                    help=f"autoencoder pre-training epochs, KL weight 0 (default {txt.ae_epochs:g})")
    s_.add_argument("--lr-schedule", choices=("cosine", "constant"), help=f"default {txt.lr_schedule}")
    s_.add_argument("--vocab-size", type=count, help=f"byte-level BPE vocabulary incl. 4 specials (default {txt.vocab_size})")
    s_.add_argument("--min-frequency", type=count, help=f"BPE: least count of a merge (default {txt.min_frequency})")
    s_.add_argument("--max-tokens", type=count, help=f"longer sentences are dropped (default {txt.max_tokens})")
    s_.add_argument("--lm-dropout", type=fraction, help=f"the LM baseline's dropout (default {txt.lm_dropout:g})")
    s_.add_argument("--iw-samples", type=natural,
                    help=f"test: k of the importance-weighted NLL, 0 = skip (default {txt.iw_samples})")
    s_.add_argument("--prior-samples", type=natural, help=f"test: sentences drawn from the prior (default {txt.prior_samples})")
    t.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    t.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where to train (default auto: CUDA if available); under torchrun, one device per process")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("export", help="fit PCA on a run's latent means and write a bundle")
    e.add_argument("run", help="run folder written by train")
    e.add_argument("--out", required=True, help="bundle folder, e.g. models/digits (new, empty, or a bundle)")
    e.add_argument("--sliders", type=count, default=5, help="sliders for the leading PCA components (default 5; "
                   "components explaining under 0.5%% of the variance are left out)")
    e.add_argument("--name", help="bundle name: a-z, 0-9, '.', '_', '-' (default: from the --out folder's name)")
    e.add_argument("--weights", choices=("float32", "float16", "int8"), default="float32",
                   help="images: store the big weight matrices as float32 (default), float16 (half the size) or "
                        "int8 (GPTQ codes, about a quarter; pixels move by up to 4/255 on the shipped model), "
                        "restored to float32 at load time; "
                        "sentences: int8 stores the encoder's embedding as int8, the decoder's embedding (= the "
                        "tied output layer) and the encoder's GRU as float16, the decoder's GRU stays float32, and "
                        "the export gate holds the file to the rounded model's tokens")
    e.add_argument("--variant", choices=("loop", "unrolled"), default="loop",
                   help="sentences: the greedy loop as an ONNX Loop that stops once every sentence has reached </s> "
                        "(default: twice as fast at maximum length as a graph call per step, more for a typical "
                        "sentence), or unrolled to max_len steps in one graph")
    e.set_defaults(func=cmd_export)

    r = sub.add_parser("directions", help="add named concept directions, a latent map and typicality data to an "
                       "image bundle (atomically)")
    r.add_argument("bundle", help="image bundle folder with an encoder.onnx (it is rewritten in place)")
    r.add_argument("--dataset", help="its training data by name (default: the dataset the manifest names)")
    r.add_argument("--data", help="its training data: a folder of MNIST-style IDX files or an .npz file")
    r.add_argument("--classes", help="fit and measure on these classes only: names or indices, comma-separated")
    r.add_argument("--attribute", action="append", default=[], choices=tuple(ATTRIBUTES),
                   help="a built-in pixel attribute, fitted by ridge regression (repeatable)")
    r.add_argument("--attribute-file", action="append", default=[], metavar="[NAME=]FILE",
                   help=".npy or one-column CSV, one value per training example (repeatable)")
    r.add_argument("--class-mean", action="append", default=[], metavar="[NAME=]A[:B]",
                   help="mean code of class A minus that of class B (or of the rest)")
    r.add_argument("--probe", action="append", default=[], metavar="[NAME=]A[:B]",
                   help="unit normal of a linear classifier, class A against B (or the rest)")
    r.add_argument("--probe-model", choices=("logistic", "svm"), default="logistic",
                   help="logistic regression (default) or a linear SVM")
    r.add_argument("--edit", action="append", default=[], metavar="NAME=BEFORE.npy:AFTER.npy",
                   help="code of an edited image minus the code of the original")
    r.add_argument("--vector", action="append", default=[], metavar="NAME=FILE.npy", help="any (Z,) vector in coords")
    r.add_argument("--from", metavar="BUNDLE", help="carry this other bundle's named directions over through a "
                   "ridge map of its codes to this bundle's (named NAME@OTHER)")
    r.add_argument("--orthogonalize", action="append", default=[], metavar="A,B,...",
                   help="Gram-Schmidt in this order: B made orthogonal to A, C to A and B, ...")
    r.add_argument("--condition", action="append", default=[], metavar="A:B,C",
                   help="InterfaceGAN's conditional form: A made orthogonal to B and C, which stay as they are")
    r.add_argument("--all-components", action="store_true", help="let fitted directions use every component, "
                   "also those the decoder hardly uses (a direction leaning on them may change nothing)")
    r.add_argument("--examples", type=count, default=256, help="real examples moved per direction for the "
                   "effect matrix (default 256)")
    r.add_argument("--sigma", type=finite(0, False), default=2.0, help="move them by ±sigma spreads (default 2)")
    r.add_argument("--map-points", type=natural, default=2000, help="training points on the latent map, "
                   "stratified by label (default 2000; 0: no map)")
    r.add_argument("--seed", type=natural, default=0, help="default 0")
    r.set_defaults(func=cmd_directions)

    s = sub.add_parser("site", help="build a self-contained static site from bundles")
    s.add_argument("bundles", nargs="*", help="bundle folders or folders of bundles "
                   f"(default: {SHIPPED or 'none in an installed package'})")
    s.add_argument("--out", required=True, help="site folder to write (new, empty, or a site built before)")
    s.set_defaults(func=cmd_site)

    b = sub.add_parser("embed", help="write just the files an embedding needs, and print the HTML to paste")
    b.add_argument("bundles", nargs="+", help="bundle folders or folders of bundles")
    b.add_argument("--out", required=True, help="folder to write (new, empty, or one written before), e.g. "
                   "assets/latent-explorer in a Jekyll or Hugo site")
    b.add_argument("--url", help="the URL the folder will be served at, ending in '/' (default: /FOLDER-NAME/)")
    b.set_defaults(func=cmd_embed)

    v = sub.add_parser("serve", help="serve a built site on 127.0.0.1 with COOP/COEP headers")
    v.add_argument("dir", help="site folder")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--no-isolation", action="store_true",
                   help="omit COOP/COEP, as most blog hosts do: the runtime then runs single-threaded")
    v.add_argument("--cors", metavar="ORIGIN|*", help="let pages of ORIGIN (e.g. http://127.0.0.1:4000), or any "
                   "origin with *, embed the element and bundles from this server (Access-Control-Allow-Origin)")
    v.set_defaults(func=cmd_serve)

    d = sub.add_parser("demo", help="train on the bundled digits, export, build the site and serve it")
    d.add_argument("--work", default="build/demo", help="folder for the run, bundle and site (new, empty, "
                   "or an earlier demo's)")
    d.add_argument("--epochs", type=count, help=f"default {img.epochs}")
    d.add_argument("--port", type=int, default=8000)
    d.add_argument("--no-serve", action="store_true", help="build only")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger().handlers[0].addFilter(lambda r: r.name.startswith("latent_explorer"))
    try:
        args.func(args)
    except LatentExplorerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a disk full, a permission denied: name the file, no traceback
        print(f"error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
