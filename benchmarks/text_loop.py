"""The other early-exit option of issue 9, measured: an ONNX `Loop` with a termination condition.
Builds loop.onnx from a "step" bundle's own init.onnx and step.onnx (coords (B, Z) -> tokens
(B, T'), T' <= max_len: the loop stops once every row has emitted </s>), checks that its ids
equal the bundle's step loop in Python onnxruntime on 256+ coordinates incl. +-5 sigma, then
times one sentence per `session.run` in headless Chromium with onnxruntime-web directly, at the
test set's own lengths and at maximum length (the same coordinates as text_decode.py). Not a
bundle layout the element reads: a measurement.

    python benchmarks/text_loop.py models/wordnet-sentences [--single-thread]
"""
import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
import onnx
from harness import launch, served
from onnx import TensorProto, helper
from playwright.sync_api import sync_playwright
from text_decode import longest_coords, test_coords

from exporter.export.graphs import session
from exporter.export.text import cut, ort_greedy_step
from exporter.models.text_vae import BOS, EOS
from exporter.space.points import validation_coords


def build_loop(bundle, max_len):
    """loop.onnx (as a ModelProto) from the bundle's init.onnx and step.onnx."""
    init, step = (onnx.load(str(bundle / f)) for f in ("init.onnx", "step.onnx"))
    init = onnx.compose.add_prefix(init, "i_", rename_inputs=False, rename_outputs=True)
    step = onnx.compose.add_prefix(step, "s_", rename_inputs=True, rename_outputs=True)
    inits = {i.name for i in step.graph.initializer}
    # nodes that only restore stored weights (Cast / DequantizeLinear of initializers) run once, outside the loop
    hoisted = [n for n in step.graph.node if all(x in inits for x in n.input)]
    body_nodes = [n for n in step.graph.node if n not in hoisted]
    for n in body_nodes:
        n.input[:] = [{"s_token": "tok", "s_hidden": "h", "s_z": "i_z"}.get(x, x) for x in n.input]
    c = lambda name, value, dtype: helper.make_node("Constant", [], [name], value=helper.make_tensor(name, dtype, [], [value]))  # noqa: E731
    body = helper.make_graph(body_nodes + [
        helper.make_node("ArgMax", ["s_logits"], ["nxt"], axis=1, keepdims=0),
        c("eos", EOS, TensorProto.INT64),
        helper.make_node("Equal", ["nxt", "eos"], ["is_eos"]),
        helper.make_node("Or", ["done", "is_eos"], ["done_out"]),
        helper.make_node("Cast", ["done_out"], ["done_i"], to=TensorProto.INT32),
        helper.make_node("ReduceMin", ["done_i"], ["all_i"], keepdims=0),
        helper.make_node("Cast", ["all_i"], ["all_done"], to=TensorProto.BOOL),
        helper.make_node("Not", ["all_done"], ["cond_out"]),
        helper.make_node("Identity", ["nxt"], ["tok_out"]),
        helper.make_node("Identity", ["s_hidden_out"], ["h_out"]),
        helper.make_node("Identity", ["nxt"], ["scan_tok"]),
    ], "greedy_step",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("tok", TensorProto.INT64, ["batch"]),
         helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", "hidden"]),
         helper.make_tensor_value_info("done", TensorProto.BOOL, ["batch"])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("tok_out", TensorProto.INT64, ["batch"]),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, ["batch", "hidden"]),
         helper.make_tensor_value_info("done_out", TensorProto.BOOL, ["batch"]),
         helper.make_tensor_value_info("scan_tok", TensorProto.INT64, ["batch"])])
    main_nodes = list(init.graph.node) + hoisted + [
        helper.make_node("Shape", ["coords"], ["shape"], start=0, end=1),
        helper.make_node("ConstantOfShape", ["shape"], ["tok0"], value=helper.make_tensor("bos", TensorProto.INT64, [1], [BOS])),
        helper.make_node("ConstantOfShape", ["shape"], ["done0"], value=helper.make_tensor("f", TensorProto.BOOL, [1], [False])),
        c("M", max_len, TensorProto.INT64), c("go", True, TensorProto.BOOL),
        helper.make_node("Loop", ["M", "go", "tok0", "i_hidden", "done0"], ["tok_f", "h_f", "done_f", "steps"], body=body),
        helper.make_node("Transpose", ["steps"], ["tokens"], perm=[1, 0]),
    ]
    graph = helper.make_graph(main_nodes, "greedy_loop", list(init.graph.input),
                              [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "steps"])],
                              list(init.graph.initializer) + list(step.graph.initializer))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)], ir_version=10)
    onnx.checker.check_model(model)
    return model


TIME = """async ([rows, repeat, Z]) => {
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
  ort.env.wasm.numThreads = crossOriginIsolated ? 2 : 1;
  const s = await ort.InferenceSession.create('/loop.onnx');
  const run = (c) => s.run({ coords: new ort.Tensor('float32', Float32Array.from(c), [1, Z]) });
  for (let i = 0; i < 10; i++) await run(rows[0]);
  const times = [], lengths = [];
  for (const c of rows) for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const { tokens } = await run(c);
    times.push(performance.now() - t0);
    lengths.push(tokens.dims[1]);
  }
  return { times, lengths };
}"""


def summary(times):
    t = sorted(times)
    return f"median {statistics.median(t):.2f} ms, p95 {t[int(0.95 * (len(t) - 1))]:.2f} ms, n={len(t)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--single-thread", action="store_true")
    ap.add_argument("--sentences", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    bundle = Path(a.bundle)
    m = json.loads((bundle / "manifest.json").read_text())
    T, Z = m["text"]["max_len"], m["latent"]["size"]
    model = build_loop(bundle, T)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "loop.onnx"
        onnx.save(model, str(path))
        coords = validation_coords(m["pca"]["std"], n=256, seed=11)
        got = session(path).run(["tokens"], {"coords": coords})[0]
        want = ort_greedy_step(bundle, coords, T)
        assert [cut(r) for r in got.tolist()] == [cut(r) for r in want.tolist()], "loop.onnx decodes differently"
        print(f"loop.onnx: ids equal the step loop's on {len(coords)} coordinates incl. +-5 sigma")
        rows, (longest, steps) = test_coords(bundle, m, a.sentences), longest_coords(bundle, m)
        html = "<!doctype html><title>loop</title>"
        with served([bundle], isolate=not a.single_thread, pages={"loop.html": html}) as base, sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            page.route("**/loop.onnx", lambda r: r.fulfill(body=path.read_bytes(), content_type="application/octet-stream"))
            page.goto(f"{base}loop.html")
            own = page.evaluate(TIME, [rows, a.repeat, Z])
            full = page.evaluate(TIME, [[longest], a.runs, Z])
            threads = "1 thread" if a.single_thread else "2 threads"
            print(f"loop ({threads}): test lengths (mean {np.mean(own['lengths']):.1f} steps): {summary(own['times'])}; "
                  f"maximum length ({steps} steps): {summary(full['times'])}")
            browser.close()


if __name__ == "__main__":
    main()
