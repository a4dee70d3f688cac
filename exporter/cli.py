"""`latent-explorer` command line. The library raises typed errors; only this file turns them
into one-line messages and exit codes."""
import argparse
import logging
import sys
from dataclasses import fields
from pathlib import Path

from .errors import CheckpointError, LatentExplorerError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models"


def cmd_train(a):
    from . import checkpoint
    run = Path(a.out)
    if (run / checkpoint.FILENAME).exists() and not a.resume:
        raise CheckpointError(f"{run}: already holds a checkpoint (use --resume, or another --out)")
    if a.sentences or a.dataset == "wordnet":
        return train_sentences(a, run)
    from .models.image_vae import VAEConfig
    from .train import TrainConfig, train
    cfg = TrainConfig(dataset=a.dataset, data=a.data, batch_size=a.batch_size or 64, lr=a.lr, beta=a.beta,
                      kl_warmup=a.kl_warmup, seed=a.seed, epochs=a.epochs or TrainConfig.epochs, limit=a.limit)
    model_cfg = VAEConfig(arch=a.arch, latent_size=a.latent_size or (16 if a.arch == "conv" else 8),
                          hidden=a.hidden or 256, channels=a.channels)
    state = train(cfg, model_cfg, run, resume=a.resume, epochs=a.epochs)
    m = state.get("test_metrics") or {}
    print(f"trained {state['dataset']} for {state['epoch'] + 1} epochs in {state['train_seconds']:.0f}s -> {run}")
    if m:
        print(f"test per image: -ELBO {m['neg_elbo']:.2f} nats (reconstruction {m['reconstruction']:.2f}, "
              f"KL {m['kl']:.2f}), active units {m['active_units']}/{state['model_config']['latent_size']}")


def train_sentences(a, run):
    """The sentence VAE, then the plain GRU language model it is measured against (in RUN/lm)."""
    from .models.text_vae import TextVAEConfig
    from .text.train import LM_DIR, TextTrainConfig, train_lm, train_text
    cfg = TextTrainConfig(sentences=a.sentences, seed=a.seed, lr=a.lr, batch_size=a.batch_size or 64,
                          epochs=a.epochs or TextTrainConfig.epochs)
    defaults = TextVAEConfig()
    model_cfg = TextVAEConfig(latent_size=a.latent_size or defaults.latent_size, hidden=a.hidden or defaults.hidden,
                              emb=a.hidden or defaults.emb)
    vae = train_text(cfg, model_cfg, run, resume=a.resume, epochs=a.epochs)
    lm_run = run / LM_DIR
    lm = train_lm(cfg, TextVAEConfig(**vae["model_config"]), lm_run,
                  resume=(lm_run / "checkpoint.pt").exists(), epochs=vae["train_config"]["epochs"])
    print(f"trained {vae['dataset']} for {vae['epoch'] + 1} epochs in {vae['train_seconds']:.0f}s "
          f"(LM baseline {lm['train_seconds']:.0f}s) -> {run}")
    v, b = vae.get("test_metrics") or {}, lm.get("test_metrics") or {}
    if v and b:
        print(f"test per sentence: VAE NLL <= {v['nll']:.2f} nats (KL {v['kl']:.2f}, perplexity {v['perplexity']:.1f}, "
              f"greedy token accuracy {100 * v['token_accuracy']:.1f}%); LM NLL {b['nll']:.2f} (perplexity {b['perplexity']:.1f})")


def cmd_export(a):
    from . import checkpoint
    name = a.name or Path(a.out).name
    if checkpoint.load(a.run).get("kind") == "text-vae":
        from .text.export import export_text_run
        m = export_text_run(a.run, a.out, k=a.components, name=name, variant=a.variant)
    else:
        from .image_export import export_run
        m = export_run(a.run, a.out, k=a.components, name=name)
    diff = max(d for g in m["graphs"].values() for d in g["validation"]["max_abs_diff"].values())
    print(f"exported {a.out} ({m['kind']}): k={m['latent']['k']}, "
          f"explained variance {100 * sum(m['pca']['explained_variance_ratio']):.1f}%, "
          f"torch vs onnxruntime max abs diff {diff:.2g}")


def cmd_site(a):
    from .site import build
    names = build(a.out, a.bundles or [SHIPPED])
    print(f"built {a.out} with {len(names)} model(s): {', '.join(names)}")


def cmd_serve(a):
    from .serve import serve
    if not (Path(a.dir) / "index.html").is_file():
        raise LatentExplorerError(f"{a.dir}: not a built site (no index.html; run: latent-explorer site --out {a.dir})")
    serve(a.dir, a.port, isolate=not a.no_isolation)


def cmd_demo(a):
    """Train on the embedded digits, export, build the site, serve. Reuses a finished run."""
    from .image_export import export_run
    from .models.image_vae import VAEConfig
    from .serve import serve
    from .site import build
    from .train import TrainConfig, train
    work = Path(a.work)
    run, bundles = work / "runs" / "digits", work / "models"
    train(TrainConfig(epochs=a.epochs), VAEConfig(), run, resume=(run / "checkpoint.pt").exists(), epochs=a.epochs)
    export_run(run, bundles / "digits", name="digits")
    site = work / "site"
    shipped = [SHIPPED] if any(SHIPPED.glob("*/manifest.json")) else []
    names = build(site, [bundles, *shipped])
    print(f"built {site} with {', '.join(names)}")
    if not a.no_serve:
        serve(site, a.port)


def parser():
    p = argparse.ArgumentParser(prog="latent-explorer", description=(
        "Train a VAE, export its decoder plus the PCA inverse to ONNX, and explore it live in the browser."))
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train an image VAE and save a checkpoint in a run folder")
    t.add_argument("--dataset", help="images: digits (default, bundled with scikit-learn) or fashion-mnist; "
                   "sentences: wordnet (the example sentences of Debian's wordnet-base)")
    t.add_argument("--data", help="folder of MNIST-style IDX files, or an .npz file (x, optional y)")
    t.add_argument("--sentences", help="UTF-8 text file, one sentence per line: train a sentence VAE")
    t.add_argument("--out", required=True, help="run folder for checkpoint.pt")
    t.add_argument("--epochs", type=int, help="epochs (default: images 150, sentences 10); with --resume, the new total")
    t.add_argument("--arch", choices=("mlp", "conv"), default="mlp")
    t.add_argument("--latent-size", type=int, help="dimension of z (default: mlp 8, conv 16, sentences 16)")
    t.add_argument("--hidden", type=int, help="hidden width (default 256; sentences: also the embedding size)")
    t.add_argument("--channels", type=int, default=32, help="conv: channels of the first layer")
    t.add_argument("--batch-size", type=int, help="default 64")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--beta", type=float, default=1.0, help="KL weight after warm-up (default 1)")
    t.add_argument("--kl-warmup", type=int, default=10, help="epochs of linear KL warm-up")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, help="train on only the first N training images (quick checks)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("export", help="fit PCA on a run's latent means and write a bundle")
    e.add_argument("run", help="run folder written by train")
    e.add_argument("--out", required=True, help="bundle folder, e.g. models/digits")
    e.add_argument("--components", type=int, default=5, help="PCA components = sliders (default 5)")
    e.add_argument("--name", help="bundle name (default: the --out folder's name)")
    e.add_argument("--variant", choices=("step", "unrolled"), default="unrolled",
                   help="sentences: the whole greedy loop in one graph (default, faster in the browser) "
                        "or one GRU step per graph call, looped in JS")
    e.set_defaults(func=cmd_export)

    s = sub.add_parser("site", help="build a self-contained static site from bundles")
    s.add_argument("bundles", nargs="*", help=f"bundle folders or folders of bundles (default: {SHIPPED})")
    s.add_argument("--out", required=True, help="site folder to (re)write")
    s.set_defaults(func=cmd_site)

    v = sub.add_parser("serve", help="serve a built site on 127.0.0.1 with COOP/COEP headers")
    v.add_argument("dir", help="site folder")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--no-isolation", action="store_true",
                   help="omit COOP/COEP, as most blog hosts do: the runtime then runs single-threaded")
    v.set_defaults(func=cmd_serve)

    d = sub.add_parser("demo", help="train on the bundled digits, export, build the site and serve it")
    d.add_argument("--work", default="build/demo", help="folder for the run, bundle and site")
    d.add_argument("--epochs", type=int, default=150)
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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
