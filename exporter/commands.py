"""What each `latent-explorer` command does, given the parsed arguments (cli.py parses them and
turns the errors raised here into one-line messages). Torch and the other heavy modules are
imported inside the commands that need them."""
import os
import time
from dataclasses import fields
from pathlib import Path

from .configs import LATENT_SIZE, TextTrainConfig, TextVAEConfig, TrainConfig, VAEConfig
from .errors import ArgumentError, LatentExplorerError

ROOT = Path(__file__).resolve().parent.parent
# The bundles shipped in a source checkout's models/; an installed package has none.
SHIPPED = ROOT / "models" if (ROOT / "pyproject.toml").is_file() and (ROOT / "models").is_dir() else None
DEMO_MARKER = ".latent-explorer-demo"


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

