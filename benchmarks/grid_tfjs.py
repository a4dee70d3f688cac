"""The live grid (16 x 16 decodes) of <latent-explorer> against TensorFlow.js (wasm backend)
running the same decoder weights, side by side in one page of one headless Chromium.

The decoder's weights are read from the bundle's decoder.onnx with Python's onnx package and
written, for this run only, next to a TensorFlow.js copy of the graph (a temporary site; nothing
converted is kept). The graph must be the image export's conv decoder (PCA inverse, two Linear +
ReLU, two ConvTranspose2d, sigmoid); anything else is refused. TensorFlow.js is a dev
dependency of web/ for this script only (npm ci --prefix web); it is never in a built site.

Prints, median over --runs: point change -> whole grid painted (the element: `el.point = p`
until its grid's `grid-render`; TensorFlow.js: the same 256 points built, decoded, read back and
painted into one canvas), the 256-point decode alone, and batch-1 decodes; plus the largest
difference between the two runtimes' pixels and the machine's load.

    python benchmarks/grid_tfjs.py [--bundle models/fashion-mnist] [--runs 40]
"""
import argparse
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
import onnx
from harness import ROOT, build, launch
from onnx import numpy_helper
from playwright.sync_api import sync_playwright

from exporter.site.serve import make_server

TFJS = ROOT / "web" / "node_modules" / "@tensorflow"
TFJS_FILES = {"tfjs-core/dist/tf-core.min.js": "tf-core.min.js",
              "tfjs-backend-wasm/dist/tf-backend-wasm.min.js": "tf-backend-wasm.min.js",
              **{f"tfjs-backend-wasm/wasm-out/tfjs-backend-wasm{v}.wasm": f"tfjs-backend-wasm{v}.wasm"
                 for v in ("", "-simd", "-threaded-simd")},
              "tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js":
                  "tfjs-backend-wasm-threaded-simd.worker.js"}
OPS = ["MatMul", "Add", "Gemm", "Relu", "Gemm", "Relu", "Reshape", "ConvTranspose", "Relu", "ConvTranspose",
       "Transpose", "Reshape", "Sigmoid", "Reshape"]


def convert(decoder, out):
    """decoder.onnx -> out/weights.bin (float32, little-endian) + out/weights.json (shapes, offsets)."""
    g = onnx.load(decoder).graph
    ops = [n.op_type for n in g.node]
    if ops != OPS:
        raise SystemExit(f"{decoder}: not the conv decoder this benchmark converts (ops {ops})")
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    node = {n.op_type + str(i): n for i, n in enumerate(g.node)}
    attrs = {k: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for k, n in node.items()}
    mm, gemm0, gemm1, reshape, ct0, ct1 = (g.node[i] for i in (0, 2, 4, 6, 7, 9))
    for i in (7, 9):
        a = attrs[f"ConvTranspose{i}"]
        k, s, p = a["kernel_shape"][0], a["strides"][0], a["pads"][0]
        if len(set(a["kernel_shape"])) != 1 or len(set(a["strides"])) != 1 or set(a["pads"]) != {p} or 2 * p != k - s:
            raise SystemExit(f"{decoder}: ConvTranspose {a} is not TensorFlow's 'same' padding")
    weights = {
        "components": init[mm.input[1]], "mean": init[g.node[1].input[1]],
        "w0": init[gemm0.input[1]], "b0": init[gemm0.input[2]], "w1": init[gemm1.input[1]], "b1": init[gemm1.input[2]],
        # ConvTranspose weight [in, out, kh, kw] -> TensorFlow's conv2dTranspose filter [kh, kw, out, in]
        "k0": init[ct0.input[1]].transpose(2, 3, 1, 0), "c0": init[ct0.input[2]],
        "k1": init[ct1.input[1]].transpose(2, 3, 1, 0), "c1": init[ct1.input[2]],
    }
    spec, blob, offset = {}, bytearray(), 0
    for name, w in weights.items():
        w = np.ascontiguousarray(w, "<f4")
        spec[name] = {"shape": list(w.shape), "offset": offset, "size": int(w.size)}
        blob += w.tobytes()
        offset += w.size
    spec["reshape"] = [int(v) for v in init[reshape.input[1]]]  # [-1, C, h, w]
    spec["stride"] = [attrs["ConvTranspose7"]["strides"][0], attrs["ConvTranspose9"]["strides"][0]]
    (out / "weights.bin").write_bytes(bytes(blob))
    (out / "weights.json").write_text(json.dumps(spec))


PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script src="tfjs/tf-core.min.js"></script>
<script src="tfjs/tf-backend-wasm.min.js"></script>
<script type="module" src="latent-explorer.js"></script>
<latent-explorer src="models/{name}/manifest.json" panels="grid"></latent-explorer>
<canvas id="tf"></canvas>"""

SETUP = """async () => {
  const x = document.querySelector('latent-explorer');
  await x.ready;
  const threads = crossOriginIsolated ? Math.min(2, navigator.hardwareConcurrency || 1) : 1;  // as core/runtime.js
  tf.wasm.setWasmPaths(new URL('tfjs/', location.href).href);
  tf.wasm.setThreadsCount(threads);
  console.log('tfjs: backend');
  await tf.setBackend('wasm');
  await tf.ready();
  console.log('tfjs: ready');
  const spec = await (await fetch('tfjs/weights.json')).json();
  const blob = new Float32Array(await (await fetch('tfjs/weights.bin')).arrayBuffer());
  const W = {};
  for (const [k, s] of Object.entries(spec)) if (s.shape) W[k] = tf.tensor(blob.subarray(s.offset, s.offset + s.size), s.shape);
  const m = x.model.manifest;
  const [Z, H, Wd] = [m.latent.size, m.image.height, m.image.width];
  const [, C, h, w] = spec.reshape;
  window.tfDecode = async (flat, n) => {
    const out = tf.tidy(() => {
      let a = tf.add(tf.matMul(tf.tensor2d(flat, [n, Z]), W.components), W.mean);
      a = tf.relu(tf.add(tf.matMul(a, W.w0, false, true), W.b0));
      a = tf.relu(tf.add(tf.matMul(a, W.w1, false, true), W.b1));
      a = tf.transpose(tf.reshape(a, [n, C, h, w]), [0, 2, 3, 1]);
      const o0 = W.k0.shape[2], s0 = spec.stride[0], s1 = spec.stride[1];
      a = tf.relu(tf.add(tf.conv2dTranspose(a, W.k0, [n, h * s0, w * s0, o0], s0, 'same'), W.c0));
      a = tf.add(tf.conv2dTranspose(a, W.k1, [n, H, Wd, 1], s1, 'same'), W.c1);
      return tf.reshape(tf.sigmoid(a), [n, H * Wd]);
    });
    const data = await out.data();
    out.dispose();
    return data;
  };
  // The grid as panels/grid.js builds it: 16 x 16 around p, ±2σ along PC1 and PC2, row 0 at the top.
  const std = m.pca.std;
  window.gridPoints = (p, n = 16) => {
    const off = (s) => Array.from({ length: n }, (_, i) => (i - (n - 1) / 2) * (4 * s) / (n - 1));
    const dx = off(std[0]), dy = off(std[1]).reverse();
    const flat = new Float32Array(n * n * Z);
    dy.forEach((b, r) => dx.forEach((a, c) => { const q = p.slice(); q[0] += a; q[1] += b; flat.set(q, (r * n + c) * Z); }));
    return flat;
  };
  const canvas = document.getElementById('tf');
  canvas.width = 16 * Wd; canvas.height = 16 * H;
  const g = canvas.getContext('2d');
  window.tfGrid = async (p) => {
    const n = 16;
    const pixels = await tfDecode(gridPoints(p, n), n * n);
    const image = g.createImageData(n * Wd, n * H);
    for (let i = 0; i < n * n; i++) {
      const [ox, oy] = [(i % n) * Wd, Math.floor(i / n) * H];
      for (let y = 0; y < H; y++) for (let xx = 0; xx < Wd; xx++) {
        const v = Math.round(pixels[i * H * Wd + y * Wd + xx] * 255), j = 4 * ((oy + y) * n * Wd + ox + xx);
        image.data[j] = image.data[j + 1] = image.data[j + 2] = v; image.data[j + 3] = 255;
      }
    }
    g.putImageData(image, 0, 0);
  };
  // The element's grid at 16 x 16.
  const grid = x.shadowRoot.querySelector('.grid');
  const size = grid.querySelector('select[aria-label="grid size"]');
  const painted = new Promise((ok) => grid.addEventListener('grid-render', (e) => e.detail.points.length === 256 && ok()));
  size.value = '16';
  size.dispatchEvent(new Event('change'));
  await painted;
  console.log('element: 16 x 16 grid painted');
  window.elGrid = (p) => new Promise((ok) => {
    const on = (e) => {
      if (e.detail.points.length === 256 && e.detail.points[0].every((v, i) => i < 2 || v === p[i])) {
        grid.removeEventListener('grid-render', on);
        ok();
      }
    };
    grid.addEventListener('grid-render', on);
    x.point = p;
  });
  return { threads, tfBackend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
           tfThreads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
}"""

RUN = """async ([runs, seed]) => {
  const x = document.querySelector('latent-explorer');
  const std = x.model.manifest.pca.std;
  let s = seed;
  const rand = () => { s = (s * 16807) % 2147483647; return (s / 2147483647) * 2 - 1; };
  const points = Array.from({ length: runs + 5 }, () => std.map((v) => v * rand()));
  const time = async (f) => { const t0 = performance.now(); await f(); return performance.now() - t0; };
  const median = (xs) => { const a = xs.slice(5).sort((p, q) => p - q); return a[a.length >> 1]; };
  const r = { elGrid: [], tfGrid: [], ortDecode256: [], tfDecode256: [], ortDecode1: [], tfDecode1: [] };
  for (const p of points) {  // interleaved, so both see the same load
    r.elGrid.push(await time(() => elGrid(p)));
    r.tfGrid.push(await time(() => tfGrid(p)));
    const flat = gridPoints(p);
    const rows = Array.from({ length: 256 }, (_, i) => Array.from(flat.subarray(i * std.length, (i + 1) * std.length)));
    r.ortDecode256.push(await time(() => x.decode(rows)));
    r.tfDecode256.push(await time(() => tfDecode(flat, 256)));
    r.ortDecode1.push(await time(() => x.decode([p])));
    r.tfDecode1.push(await time(() => tfDecode(Float32Array.from(p), 1)));
  }
  const p = points[0];
  const flat = gridPoints(p);
  const rows = Array.from({ length: 256 }, (_, i) => Array.from(flat.subarray(i * std.length, (i + 1) * std.length)));
  const [a, b] = [await x.decode(rows), await tfDecode(flat, 256)];
  let diff = 0;
  a.forEach((row, i) => row.forEach((v, j) => { diff = Math.max(diff, Math.abs(v - b[i * row.length + j])); }));
  return { ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)])), maxDiff: diff, n: runs };
}"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fashion-mnist"))
    ap.add_argument("--runs", type=int, default=40)
    a = ap.parse_args()
    bundle = Path(a.bundle)
    missing = [src for src in TFJS_FILES if not (TFJS / src).is_file()]
    if missing:
        raise SystemExit(f"{TFJS / missing[0]}: TensorFlow.js is not installed (npm ci --prefix web)")
    name = json.loads((bundle / "manifest.json").read_text())["name"]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build(site, [bundle])
        (site / "tfjs").mkdir()
        for src, dst in TFJS_FILES.items():
            shutil.copyfile(TFJS / src, site / "tfjs" / dst)
        convert(bundle / "decoder.onnx", site / "tfjs")
        (site / "bench.html").write_text(PAGE.replace("{name}", name))
        server = make_server(site, 0, isolate=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = launch(p)
                page = browser.new_page()
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: print("page:", m.text, flush=True))
                page.goto(f"http://127.0.0.1:{server.server_address[1]}/bench.html")
                page.wait_for_function("!!customElements.get('latent-explorer') && !!window.tf")
                info = page.evaluate(SETUP)
                got = page.evaluate(RUN, [a.runs, 12345])
                browser.close()  # (sync_playwright's exit closes it too, on an error)
        finally:
            server.shutdown()
            server.server_close()
    if errors:
        raise SystemExit(f"page errors: {errors}")
    end = os.getloadavg()
    print(f"bundle {name}; onnxruntime-web threads {info['threads']}; TensorFlow.js {info['tfBackend']} "
          f"(simd {info['simd']}, threads {info['tfThreads']}); medians of {got['n']} runs")
    print(f"load average before {load[0]:.2f}, after {end[0]:.2f}")
    print(f"max |onnxruntime-web - TensorFlow.js| over the 256 decodes: {got['maxDiff']:.2e}")
    if not got["maxDiff"] <= 1e-4:  # not the same decoder: the timings would compare nothing
        raise SystemExit(f"the two runtimes disagree by {got['maxDiff']:.2e} (> 1e-4): the weight conversion is wrong")
    rows = [("point change -> 16x16 grid painted", "elGrid", "tfGrid"), ("decode of 256 points", "ortDecode256", "tfDecode256"),
            ("decode of 1 point (batch 1)", "ortDecode1", "tfDecode1")]
    print(f"{'':40} {'latent-explorer':>16} {'TensorFlow.js':>14} {'ratio':>7}")
    for label, ours, theirs in rows:
        print(f"{label:40} {got[ours]:13.2f} ms {got[theirs]:11.2f} ms {got[ours] / got[theirs]:6.2f}x")


if __name__ == "__main__":
    main()
