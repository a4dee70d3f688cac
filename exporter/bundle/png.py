"""PNG files with the standard library only (zlib + struct): the latent map's sprite."""
import struct
import zlib

import numpy as np

from ..errors import ArgumentError


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels):
    """PNG bytes of `pixels`: (H, W) grey or (H, W, 3) RGB, uint8. Each row is stored with the
    "up" filter (the difference to the row above), which suits tiled images."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        raise ArgumentError(f"PNG: need uint8 (H, W) or (H, W, 3) pixels, got {pixels.dtype} {pixels.shape}")
    h, w = pixels.shape[:2]
    rows = pixels.reshape(h, -1)
    up = np.diff(rows, axis=0, prepend=np.zeros((1, rows.shape[1]), np.uint8))  # uint8 wraps, as PNG does
    raw = np.hstack([np.full((h, 1), 2, np.uint8), up]).tobytes()
    colour = 0 if pixels.ndim == 2 else 2
    header = struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))

