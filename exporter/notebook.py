"""`Explorer`: the live element in Jupyter (JupyterLab, Notebook 7, VS Code, marimo), via anywidget.

    from exporter import Explorer
    w = Explorer("models/fashion-mnist")
    w                                   # the element, decoding live in the browser
    w.point = [0.5] * 16                # moves it; moving a slider updates w.point
    w.decode([[0] * 16])                # numpy, computed by onnxruntime in the kernel

anywidget loads the widget's module from a `blob:` URL, so nothing can be found relative to it
(anywidget #921). Everything the browser needs therefore travels over the widget's own comm:
the element's modules as text (web/notebook.js links them into blob: modules), the
onnxruntime-web files (the wasm as bytes, handed to the runtime as `wasmBinary`), and the
bundle's files as bytes. Nothing loads from a CDN or from the Jupyter server's file routes.
"""
from pathlib import Path

import numpy as np

from .bundle.io import read_manifest
from .errors import LatentExplorerError
from .site.build import ORT_FILES, TOKENIZERS_FILES, WEB, ort_dist, tokenizers_dist

try:
    import anywidget
    import traitlets
except ImportError:  # pragma: no cover - the message is the point
    raise LatentExplorerError("exporter.Explorer needs anywidget: pip install anywidget (or the [notebook] extra)") \
        from None


def modules(web=WEB):
    """The element's ES modules: relative path -> source text (the notebook glue excluded)."""
    found = {str(p.relative_to(web)): p.read_text(encoding="utf-8") for p in sorted(web.rglob("*.js"))
             if "node_modules" not in p.relative_to(web).parts and p.name != "notebook.js"}
    if "latent-explorer.js" not in found:
        raise LatentExplorerError(f"{web}: the element's modules are missing (latent-explorer.js)")
    return found


def runtime(web=WEB):
    """onnxruntime-web (its module and loader as text, the wasm as bytes) and the
    @huggingface/tokenizers module (text) that sentence bundles need."""
    dist = ort_dist(web)
    entry, glue, wasm = ORT_FILES
    [tokenizers] = TOKENIZERS_FILES
    return {"entry": (dist / entry).read_text(encoding="utf-8"), "glue": (dist / glue).read_text(encoding="utf-8"),
            "wasm": (dist / wasm).read_bytes(),
            "tokenizers": (tokenizers_dist(web) / tokenizers).read_text(encoding="utf-8")}


class Explorer(anywidget.AnyWidget):
    """The `<latent-explorer>` element for one bundle folder, with its point synced both ways."""
    _esm = WEB / "notebook.js"
    modules = traitlets.Dict().tag(sync=True)                    # path -> ES module source
    runtime = traitlets.Dict().tag(sync=True)                    # entry, glue, tokenizers (text), wasm (bytes)
    files = traitlets.Dict().tag(sync=True)                      # the bundle: file name -> bytes
    point = traitlets.List(traitlets.Float()).tag(sync=True)     # the full coordinates on show (Z)

    def __init__(self, bundle, point=None, **kwargs):
        folder = Path(bundle)
        manifest = read_manifest(folder)
        files = {name: (folder / name).read_bytes() for name in ("manifest.json", *manifest.files())}
        z = manifest.latent.size
        start = [0.0] * z if point is None else [float(v) for v in point]
        if len(start) != z or not np.isfinite(start).all():
            raise LatentExplorerError(f"point: needs {z} finite numbers, got {len(start)}")
        super().__init__(modules=modules(), runtime=runtime(), files=files, point=start, **kwargs)
        self.folder, self.manifest = folder, manifest
        self._runtime = None

    @traitlets.validate("point")
    def _check_point(self, proposal):
        value = proposal["value"]
        z = len(self.point) if self.point else len(value)
        if len(value) != z or not np.isfinite(np.asarray(value, dtype=float)).all():
            raise traitlets.TraitError(f"point: needs {z} finite numbers")
        return value

    def decode(self, points):
        """points (N, Z) -> images (N, H, W[, 3]) in [0, 1], by onnxruntime in this kernel."""
        if self.manifest.kind != "image":
            raise LatentExplorerError(f"{self.folder}: decode() in Python supports image bundles; "
                                      "sentence bundles decode in the element")
        if self._runtime is None:
            from .bundle.runtime import Runtime
            self._runtime = Runtime(self.folder)
        return self._runtime.decode(np.asarray(points, dtype=np.float32))
