"""The poster: the decode of a bundle's first point (the mean, all coordinates 0), kept in the
manifest so the element paints it at once, before the runtime and the graphs have loaded, then
replaces it with the live decode of the same point. It is computed by onnxruntime from the graph
file that ships, and stored as the element paints: 8-bit pixels rounded as `Math.round(v * 255)`,
or the sentence's text, so the switch to live decoding changes nothing on screen."""
import base64

import numpy as np

from ..bundle.schema import Poster
from .graphs import session


def image_poster(decoder_path, z):
    """Poster of an image bundle from its decoder.onnx (coords (1, Z) -> pixels)."""
    pixels = session(decoder_path).run(["pixels"], {"coords": np.zeros((1, z), np.float32)})[0][0]
    levels = np.floor(np.clip(pixels.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)
    return Poster(point=[0.0] * z, pixels=base64.b64encode(levels.tobytes()).decode("ascii"))


def text_poster(z, text):
    """Poster of a text bundle: `text`, what its decoder makes of the mean."""
    return Poster(point=[0.0] * z, text=text)
