"""Build a self-contained static site: the page, the element, the wasm runtime and bundles.

Only the wasm build of onnxruntime-web is copied (`ort.wasm.min.mjs` loads
`ort-wasm-simd-threaded.{mjs,wasm}` from beside itself); the other entry points would pull
a 28 MB WebGPU build the element never uses.
"""
import json
import shutil
from pathlib import Path

from . import bundle
from .errors import BundleError, LatentExplorerError

WEB = Path(__file__).resolve().parent.parent / "web"
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
WEB_SUFFIXES = {".html", ".js", ".css", ".svg", ".png"}


def find_bundles(paths):
    """Bundle folders among `paths`: each is a bundle itself or a folder of bundles."""
    found = []
    for p in map(Path, paths):
        if (p / bundle.MANIFEST).is_file():
            found.append(p)
        elif p.is_dir():
            found += sorted(c for c in p.iterdir() if (c / bundle.MANIFEST).is_file())
        else:
            raise BundleError(f"{p}: no such bundle or folder of bundles")
    return found


def ort_dist(web=WEB):
    dist = web / "node_modules" / "onnxruntime-web" / "dist"
    missing = [f for f in ORT_FILES if not (dist / f).is_file()]
    if missing:
        raise LatentExplorerError(f"{dist}: onnxruntime-web is not installed (run: npm ci --prefix web)")
    return dist


def build(out, bundle_paths, web=WEB):
    """Write the site to `out` (atomically) and return the list of bundle names in it."""
    dist = ort_dist(web)
    bundles = find_bundles(bundle_paths)
    if not bundles:
        raise BundleError(f"{', '.join(map(str, bundle_paths)) or '(none)'}: no bundles to put in the site")
    index, seen = [], set()
    with bundle.staged(out) as tmp:
        for f in sorted(web.rglob("*")):
            rel = f.relative_to(web)
            if f.is_file() and f.suffix in WEB_SUFFIXES and "node_modules" not in rel.parts:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, tmp / rel)
        (tmp / "ort").mkdir()
        for f in ORT_FILES:
            shutil.copy2(dist / f, tmp / "ort" / f)
        for b in bundles:
            m = bundle.read_manifest(b)
            if m["name"] in seen:
                continue  # the first path given wins, so a fresh bundle can shadow a shipped one
            seen.add(m["name"])
            shutil.copytree(b, tmp / "models" / m["name"])
            index.append({"name": m["name"], "title": m.get("title", m["name"]), "kind": m["kind"],
                          "manifest": f"models/{m['name']}/{bundle.MANIFEST}"})
        (tmp / "models" / "index.json").write_text(json.dumps({"models": index}, indent=1) + "\n")
    return [e["name"] for e in index]
