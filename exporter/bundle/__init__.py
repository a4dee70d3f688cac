"""Bundles: the manifest schema (the contract) and reading/writing bundle folders. No torch."""
from .io import check_out, is_bundle, read_manifest, staged, write_manifest
from .schema import (
           FORMAT,
           FORMAT_VERSION,
           KINDS,
           MANIFEST,
           Anchor,
           Axis,
           Dataset,
           Direction,
           Directions,
           GraphSpec,
           Image,
           Latent,
           Manifest,
           MapInfo,
           PCAInfo,
           Text,
           Typicality,
)

__all__ = ["check_out", "is_bundle", "read_manifest", "staged", "write_manifest", "FORMAT", "FORMAT_VERSION", "KINDS",
           "MANIFEST", "Anchor", "Axis", "Dataset", "Direction", "Directions", "GraphSpec", "Image", "Latent", "Manifest",
           "MapInfo", "PCAInfo", "Text", "Typicality"]
