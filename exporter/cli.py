"""`latent-explorer` command line: the argument parser and `main`. The library raises typed
errors; only `main` turns them into one-line messages and exit codes. Defaults come from the
config dataclasses, and every numeric flag is checked by argparse before any work starts. What
each command does is in commands.py; neither file imports torch at the top, so --help is fast."""
import argparse
import logging
import math
import sys

from .commands import SHIPPED, cmd_demo, cmd_directions, cmd_embed, cmd_export, cmd_serve, cmd_site, cmd_train
from .configs import LATENT_SIZE, TextTrainConfig, TextVAEConfig, TrainConfig, VAEConfig
from .errors import LatentExplorerError
from .space.attributes import ATTRIBUTES


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
