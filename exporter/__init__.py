"""latent-explorer: train a VAE, export decoder + PCA inverse to ONNX, explore it live in the browser."""
from .errors import (AtolError, BundleError, CheckpointError, DataError, ExportValidationError,
                     LatentExplorerError, OutputNameError, ShapeError)
from .image_export import export_image_bundle

__all__ = ["export_image_bundle", "LatentExplorerError", "DataError", "CheckpointError", "BundleError",
           "ExportValidationError", "OutputNameError", "ShapeError", "AtolError"]
