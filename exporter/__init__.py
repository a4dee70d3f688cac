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

__all__ = ["export_image_bundle", "LatentExplorerError", "ArgumentError", "DataError", "CheckpointError",
           "BundleError", "TrainingError", "ExportValidationError", "OutputNameError", "ShapeError", "AtolError"]


def __getattr__(name):
    if name == "export_image_bundle":
        from .image_export import export_image_bundle
        return export_image_bundle
    raise AttributeError(f"module 'exporter' has no attribute {name!r}")
