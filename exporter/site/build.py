"""Build a self-contained static site: the page, the element, the wasm runtime and bundles.

Only the wasm build of onnxruntime-web is copied (`ort.wasm.min.mjs` loads
`ort-wasm-simd-threaded.{mjs,wasm}` from beside itself); the other entry points would pull
a 28 MB WebGPU build the element never uses. Sentence bundles' tokenizer.json is read by the
ESM build of @huggingface/tokenizers (`TOKENIZERS_FILES`), copied into `tokenizers/` the same way.

A site is ours when it holds the marker file `MARKER`; `build` replaces only such a folder (or
an empty one). From each bundle it copies only the manifest and the files the manifest names,
never a symlink, and every path it writes is checked to lie inside the site.
"""
import json
import shutil
from pathlib import Path

from .. import atomic, bundle
from ..errors import BundleError, LatentExplorerError

PACKAGE = Path(__file__).resolve().parents[1]   # exporter/
INSTALLED_WEB = PACKAGE / "web"                  # a wheel: web/ is the package data exporter/web
SOURCE_WEB = PACKAGE.parent / "web"              # a source checkout: web/ beside exporter/
WEB = INSTALLED_WEB if INSTALLED_WEB.is_dir() else SOURCE_WEB
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
TOKENIZERS_FILES = ("tokenizers.min.mjs",)     # node_modules/@huggingface/tokenizers/dist -> tokenizers/
WEB_SUFFIXES = {".html", ".js", ".css", ".svg", ".png"}
MARKER = ".latent-explorer-site"


def is_site(folder):
    return (Path(folder) / MARKER).is_file()


def find_bundles(paths):
    """Bundle folders among `paths`: each is a bundle itself or a folder of bundles. Hidden folders
    (a killed export's `.NAME.tmp-*` or `.NAME.old-*`) are skipped; two bundles of one name in
    one folder are refused, since neither can be said to be the one meant."""
    found = []
    for p in map(Path, paths):
        if (p / bundle.MANIFEST).is_file():
            found.append(p)
        elif p.is_dir():
            names = {}
            for c in sorted(p.iterdir()):
                if c.name.startswith(".") or not (c / bundle.MANIFEST).is_file():
                    continue
                name = bundle.read_manifest(c).name
                if name in names:
                    raise BundleError(f"{p}: holds two bundles named {name!r} ({names[name].name} and {c.name})")
                names[name] = c
                found.append(c)
        else:
            raise BundleError(f"{p}: no such bundle or folder of bundles")
    return found


def ort_dist(web=WEB, package="onnxruntime-web", files=ORT_FILES):
    """The folder holding the files of the npm `package` a site needs (by default the
    onnxruntime-web runtime); a one-line error that says what to do, for a source checkout (npm)
    and for an installed package (reinstall) alike."""
    dist = web / "node_modules" / package / "dist"
    missing = [f for f in files if not (dist / f).is_file()]
    if missing and (web / "package.json").is_file():
        raise LatentExplorerError(f"{dist}: {package} is not installed (run: npm ci --prefix {web})")
    if missing:
        raise LatentExplorerError(f"{dist}: this installation of latent-explorer lacks its browser runtime "
                                  f"({missing[0]}); reinstall it from a wheel built with `make wheel`")
    return dist


def tokenizers_dist(web=WEB):
    """The folder holding @huggingface/tokenizers' ESM build (sentence bundles need it)."""
    return ort_dist(web, "@huggingface/tokenizers", TOKENIZERS_FILES)


def _copy(src, root, rel):
    """Copy the regular file `src` to `root/rel`, refusing symlinks and paths outside `root`."""
    if src.is_symlink() or not src.is_file():
        raise BundleError(f"{src}: not a regular file; refusing to copy it")
    dest = atomic.inside(root, root / rel)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def build(out, bundle_paths, web=WEB, pages=True):
    """Write the site to `out` (atomically) and return the list of bundle names in it. Without
    `pages`, only what an embedding needs: the element's modules, the runtime and the bundles."""
    dist, tok_dist = ort_dist(web), tokenizers_dist(web)
    bundles = find_bundles(bundle_paths)
    if not bundles:
        raise BundleError(f"{', '.join(map(str, bundle_paths)) or '(none)'}: no bundles to put in the site")
    manifests, seen = [], set()
    for b in bundles:
        m = bundle.read_manifest(b)
        if m.name not in seen:  # the first path given wins, so a fresh bundle can shadow a shipped one
            seen.add(m.name)
            manifests.append((b, m))
    index = []
    try:
        with atomic.staged(out, is_site, "latent-explorer site") as tmp:
            for f in sorted(web.rglob("*")):
                rel = f.relative_to(web)
                if f.is_file() and f.suffix in WEB_SUFFIXES and "node_modules" not in rel.parts and (
                        pages or f.suffix != ".html"):
                    _copy(f, tmp, rel)
            for f in ORT_FILES:
                _copy(dist / f, tmp, Path("ort") / f)
            for f in TOKENIZERS_FILES:
                _copy(tok_dist / f, tmp, Path("tokenizers") / f)
            for b, m in manifests:
                for f in [bundle.MANIFEST, *m.files()]:
                    _copy(b / f, tmp, Path("models") / m.name / f)
                index.append({"name": m.name, "title": m.title, "kind": m.kind,
                              "manifest": f"models/{m.name}/{bundle.MANIFEST}"})
            (tmp / "models" / "index.json").write_text(json.dumps({"models": index}, indent=1) + "\n")
            (tmp / MARKER).write_text("This folder was built by `latent-explorer site`, which may replace it.\n")
    except atomic.PathError as e:
        raise BundleError(str(e)) from None
    return [e["name"] for e in index]
