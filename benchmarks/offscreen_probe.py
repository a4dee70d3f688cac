"""Where a worker should paint: a probe for issue 12's per-move latency, not the element.

A bare page (no <latent-explorer>) drags a range input with Chromium's own mouse, 330 moves; each
`input` posts the point to a module worker that runs the bundle's decoder.onnx (onnxruntime-web,
1 wasm thread). Either the worker paints an OffscreenCanvas it was handed (`offscreen`), or it
posts the pixels back and the page paints its canvas (`reply`, what the element does today).
Latency: the input event's time stamp -> the pixels put, on the page's clock, median and p95 of
the last 310 moves. `--spans N` has the page rewrite N text nodes on every input, as the
element's panels do, so the page renders a real frame between the input and the worker's reply.

    python benchmarks/offscreen_probe.py [--bundle models/fashion-mnist] [--rounds 2]
"""
import argparse
import json
import statistics
from pathlib import Path

from harness import ROOT, launch, served
from playwright.sync_api import sync_playwright

WORKER = r"""
import * as ort from '/ort/ort.wasm.min.mjs';
ort.env.wasm.wasmPaths = '/ort/'; ort.env.wasm.numThreads = 1;
const [W, H] = [__W__, __H__]; // the bundle's image size (grey)
let session, g = null, img = null;
const start = ort.InferenceSession.create('/models/fashion-mnist/decoder.onnx')
  .then((s) => { session = s; postMessage({ op: 'ready' }); });
onmessage = async (e) => {
  const d = e.data;
  if (d.op === 'canvas') { g = d.off.getContext('2d'); img = g.createImageData(W, H); return; }
  await start;
  const out = await session.run({ coords: new ort.Tensor('float32', d.coords, [1, d.coords.length]) });
  const px = out.pixels.data;
  if (g) {
    for (let i = 0; i < W * H; i++) {
      const v = Math.round(px[i] * 255);
      img.data.fill(v, 4 * i, 4 * i + 3);
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    postMessage({ op: 'painted', at: performance.timeOrigin + performance.now(), t: d.t });
  } else postMessage({ op: 'pixels', px, t: d.t }, [px.buffer]);
};
"""
PAGE = r"""<!doctype html><meta charset=utf-8><link rel=icon href="data:,">
<canvas id=c width=__W__ height=__H__ style="width:256px;height:256px;image-rendering:pixelated"></canvas><br>
<input type=range id=s min=-3 max=3 step=0.001 value=-3 style="width:600px"><div id=dom></div>
<script type=module>
const [W, H] = [__W__, __H__];
const q = new URLSearchParams(location.search), mode = q.get('mode'), spans = +q.get('spans'), Z = +q.get('z');
const w = new Worker('./proto-worker.js', { type: 'module' });
const c = document.getElementById('c'), s = document.getElementById('s');
window.lat = [];
const dom = document.getElementById('dom');
const cells = Array.from({ length: spans }, () => dom.appendChild(document.createElement('span')));
let ctx = null, img = null;
if (mode === 'offscreen') { const off = c.transferControlToOffscreen(); w.postMessage({ op: 'canvas', off }, [off]); }
else { ctx = c.getContext('2d'); img = ctx.createImageData(W, H); }
w.onmessage = (e) => {
  const d = e.data;
  if (d.op === 'ready') window.ready = true;
  else if (d.op === 'painted') lat.push(d.at - performance.timeOrigin - d.t);
  else if (d.op === 'pixels') {
    for (let i = 0; i < W * H; i++) {
      const v = Math.round(d.px[i] * 255);
      img.data.fill(v, 4 * i, 4 * i + 3);
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    lat.push(performance.now() - d.t);
  }
};
s.addEventListener('input', (e) => {
  const coords = new Float32Array(Z); coords[0] = s.valueAsNumber * 2;
  w.postMessage({ op: 'decode', coords, t: e.timeStamp });
  cells.forEach((x, i) => { x.textContent = ' ' + (s.valueAsNumber * (i + 1)).toFixed(3); });
});
</script>"""

def pct(t, p):
    t = sorted(t)
    return t[int(p * (len(t) - 1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fashion-mnist"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--spans", type=int, nargs="+", default=[0, 300])
    a = ap.parse_args()
    bundle = Path(a.bundle)
    m = json.loads((bundle / "manifest.json").read_text())
    z, (h, w) = m["latent"]["size"], (m["image"]["height"], m["image"]["width"])
    size = lambda t: t.replace("__W__", str(w)).replace("__H__", str(h))  # noqa: E731
    worker = size(WORKER.replace("/models/fashion-mnist/", f"/models/{bundle.name}/"))
    with served([bundle], keep=True) as (base, site), sync_playwright() as p:
        (site / "proto-worker.js").write_text(worker)
        (site / "proto.html").write_text(size(PAGE))
        browser = launch(p)
        for rnd in range(a.rounds):
            for spans in a.spans:
                for mode in ("reply", "offscreen"):
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    page.goto(f"{base}proto.html?mode={mode}&spans={spans}&z={z}")
                    page.wait_for_function("window.ready")
                    box = page.locator("#s").bounding_box()
                    y = box["y"] + box["height"] / 2
                    page.mouse.move(box["x"] + 5, y)
                    page.mouse.down()
                    for i in range(330):
                        page.mouse.move(box["x"] + 5 + (i % 300) * 1.9, y)
                    page.mouse.up()
                    page.wait_for_timeout(300)
                    lat = page.evaluate("lat")[20:]
                    print(f"round {rnd} spans {spans:3d} {mode:9s}: n={len(lat)} median {statistics.median(lat):.2f} "
                          f"p95 {pct(lat, .95):.2f} ms")
                    page.close()
        browser.close()


if __name__ == "__main__":
    main()
