"""Colour images in the browser (the shipped `shapes` bundle: 32 x 32 RGB): the canvas paints all
three channels as Python decodes them, the drawing pad draws in a chosen ink colour and hands the
encoder exact RGB block means, and a dropped colour picture is used as it is."""
import numpy as np
import pytest
from conftest import ROOT, SHIPPED
from test_browser import shown_rgba
from test_points_browser import DROP, SETTLED, manifest, open_element, ort_decode, ort_encode, stroke

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif("shapes" not in SHIPPED, reason="the shipped shapes bundle is not in models/")]
SHAPES = "/models/shapes/manifest.json"
BUNDLE = ROOT / "models" / "shapes"


def canvas_rgb(page, selector):
    got = page.evaluate("""(sel) => {
        const c = document.querySelector('latent-explorer').shadowRoot.querySelector(sel);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.height, c.width, Array.from(d)];
    }""", selector)
    return np.array(got[2], np.float64).reshape(got[0], got[1], 4)[..., :3] / 255


def test_the_canvas_paints_rgb_as_python_decodes(page, http_server, console_errors):
    assert open_element(page, http_server, SHAPES) is True
    m = manifest(BUNDLE)
    for anchor in m["anchors"][:4]:
        page.evaluate("(p) => { document.querySelector('latent-explorer').point = p; }", anchor["coords"])
        page.wait_for_function(SETTLED)
        want = ort_decode(BUNDLE, [anchor["coords"]])[0]
        assert want.shape == (32, 32, 3)
        np.testing.assert_allclose(shown_rgba(page)[..., :3] / 255, want, atol=1 / 255 + 1e-6)
    assert console_errors == []


def test_the_pad_draws_in_the_chosen_ink_and_the_decode_follows(page, http_server, console_errors):
    assert open_element(page, http_server, SHAPES) is True
    ink = page.locator("latent-explorer .pad input[type=color]")
    assert ink.input_value() == "#ff3333"
    ink.fill("#33cc33")  # green
    stroke(page, [(0.35, 0.35), (0.65, 0.35), (0.65, 0.65), (0.35, 0.65), (0.35, 0.35)])
    last = page.evaluate("changes.at(-1)")
    assert last["source"] == "drawing"
    pixels = np.array(last["input"], np.float32).reshape(32, 32, 3)
    pad = canvas_rgb(page, "canvas.pad-canvas")
    s = pad.shape[0] // 32
    np.testing.assert_allclose(pixels, pad.reshape(32, s, 32, s, 3).mean((1, 3)), atol=1e-6)
    inked = pixels.max(-1) > 0.5
    assert inked.sum() > 20 and (pixels[inked][:, 1] > pixels[inked][:, 0] + 0.3).all(), "green ink"
    np.testing.assert_allclose(last["point"], ort_encode(BUNDLE, pixels[None])[0], atol=1e-5)
    np.testing.assert_allclose(shown_rgba(page)[..., :3] / 255, ort_decode(BUNDLE, [last["point"]])[0],
                               atol=1 / 255 + 1e-6)
    assert console_errors == []


def test_a_dropped_colour_picture_is_used_as_it_is(page, http_server, console_errors):
    assert open_element(page, http_server, SHAPES) is True
    page.evaluate(DROP, ["#000", "#3355ff", "png", "drop"])  # a blue bar on black
    page.wait_for_function("changes.some((c) => c.source === 'file')")
    page.wait_for_function(SETTLED)
    last = page.evaluate("changes.at(-1)")
    pixels = np.array(last["input"], np.float32).reshape(32, 32, 3)
    bar = pixels[10:22, 14:18]
    assert bar[..., 2].min() > 0.9 and bar[..., 0].max() < 0.3, "blue stays blue: no grey, no inversion"
    assert pixels[:, :4].max() < 0.05
    note = page.locator("latent-explorer .pad .note")
    assert "in colour" in note.inner_text()
    np.testing.assert_allclose(last["point"], ort_encode(BUNDLE, pixels[None])[0], atol=1e-5)
    assert console_errors == []


def test_encode_takes_rgb_arrays_and_refuses_grey_ones(page, http_server, console_errors):
    assert open_element(page, http_server, SHAPES) is True
    x = np.random.default_rng(0).random((3, 32, 32, 3), dtype=np.float32)
    got = page.evaluate("(b) => document.querySelector('latent-explorer').encode(b)", x.reshape(3, -1).tolist())
    np.testing.assert_allclose(got, ort_encode(BUNDLE, x), atol=1e-5)
    err = page.evaluate("""() => document.querySelector('latent-explorer').encode([new Array(32 * 32).fill(0)])
        .then(() => 'resolved', (e) => e.constructor.name + ': ' + e.message)""")
    assert err.startswith("TypeError") and "32 × 32 × 3" in err
    assert console_errors == []
