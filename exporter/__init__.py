"""latent-explorer: train a VAE, export decoder + PCA inverse to ONNX, explore it live in the browser.

The public API is loaded lazily (module `__getattr__`), so `import exporter` and the command
line's `--help`, `site` and `serve` do not load torch."""
from .errors import (
    ArgumentError,
    AtolError,
    BundleError,
    CheckpointError,
    DataError,
    ExportValidationError,
    LatentExplorerError,
    OutputNameError,
    ShapeError,
    TrainingError,
)

__all__ = ["export_image_bundle", "Explorer", "export_text_bundle", "SentenceTokenizer", "add_directions", "Runtime",
           "LatentExplorerError", "ArgumentError", "DataError", "CheckpointError",
           "BundleError", "TrainingError", "ExportValidationError", "OutputNameError", "ShapeError", "AtolError"]


_LAZY = {"export_image_bundle": "exporter.export.image", "export_text_bundle": "exporter.export.text",
         "Explorer": "exporter.notebook", "SentenceTokenizer": "exporter.tokenizers.bpe",
         "add_directions": "exporter.export.concepts", "Runtime": "exporter.bundle.runtime"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'exporter' has no attribute {name!r}")
