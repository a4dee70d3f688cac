"""Sentence bundles in the browser: the element's greedy decoding gives exactly the tokens that
Python onnxruntime gives on the same files, for both graph layouts (the loop layout with int8
weights, as shipped), and model output is plain text."""
import json
import shutil

import numpy as np
import pytest
from conftest import ROOT, SHIPPED, free_port, serve_site
from test_runtime_browser import EVENTS, hold

from exporter.export.text_checks import ort_greedy
from exporter.models.text_vae import EOS
from exporter.space.points import validation_coords
from exporter.tokenizers.bpe import SentenceTokenizer

pytestmark = pytest.mark.browser

PAYLOAD = "<img src=x onerror=alert(1)>"
SUBJECTS = ["the dog", "a cat", "my friend", "the old man", "her sister", "the bird", "our teacher", "a child"]
VERBS = ["sees", "likes", "paints", "finds", "calls", "follows", "knows", "helps"]
OBJECTS = ["the river", "a red ball", "the small house", "music", "the garden", "a letter", "the moon", "bread"]


@pytest.fixture(scope="session")
def text_site(tmp_path_factory):
    """A tiny sentence VAE on a made-up corpus, exported in both layouts (step with int8 weights),
    plus a copy whose vocabulary (and anchors) are built of an HTML payload, served like any site."""
    from exporter.configs import TextVAEConfig
    from exporter.export.text import export_text_run
    from exporter.site.build import build
    from exporter.train.text import TextTrainConfig, train_text
    tmp = tmp_path_factory.mktemp("text")
    lines = [f"{s} {v} {o}." for s in SUBJECTS for v in VERBS for o in OBJECTS[:4]] + [f"she wrote {PAYLOAD} today"]
    (tmp / "corpus.txt").write_text("\n".join(lines) + "\n")
    run = tmp / "run"
    train_text(TextTrainConfig(sentences=str(tmp / "corpus.txt"), epochs=8, batch_size=16, lr=5e-3, vocab_size=300,
                               free_bits=2.0, iw_samples=0, prior_samples=0),
               TextVAEConfig(emb=32, hidden=32, encoder_hidden=16, latent_size=8, word_dropout=0.75), run, progress=False)
    bundles = tmp / "bundles"
    for variant, weights in (("loop", "int8"), ("unrolled", "float32")):
        export_text_run(run, bundles / f"text-{variant}", sliders=4, name=f"text-{variant}", variant=variant, weights=weights)
    evil = bundles / "text-evil"
    shutil.copytree(bundles / "text-loop", evil)
    tok = json.loads((evil / "tokenizer.json").read_text())  # every token but the specials decodes to the payload
    payload = PAYLOAD.replace(" ", "\u0120")                 # byte-level BPE writes a space as U+0120
    vocab = tok["model"]["vocab"]
    tok["model"]["vocab"] = {**{t: i for t, i in vocab.items() if i < 4},
                             **{f"\u0120{payload}{i}": i for i in range(4, len(vocab))}}
    tok["model"]["merges"] = []
    (evil / "tokenizer.json").write_text(json.dumps(tok))
    m = json.loads((evil / "manifest.json").read_text())
    m["name"] = m["title"] = "text-evil"
    for a in m["anchors"]:
        a["text"] = PAYLOAD
    (evil / "manifest.json").write_text(json.dumps(m))
    site = tmp / "site"
    build(site, [bundles])
    return site


@pytest.fixture(scope="session")
def text_server(text_site):
    yield from serve_site(text_site, free_port())


def open_bundle(page, server, name):
    page.goto(f"{server.base_url}?model={name}")
    page.wait_for_function("document.querySelector('latent-explorer')")
    return page.evaluate("customElements.whenDefined('latent-explorer').then(() =>"
                         " document.querySelector('latent-explorer').ready).then(() => true, (e) => e.message)")


def cut(ids):
    ids = list(ids)
    return ids[:ids.index(EOS)] if EOS in ids else ids


SHIPPED_TEXT = [n for n in SHIPPED if json.loads((ROOT / "models" / n / "manifest.json").read_text())["kind"] == "text"]


@pytest.mark.parametrize("variant", ["loop", "unrolled"])
def test_browser_greedy_tokens_equal_python(variant, page, text_server, console_errors):
    assert_same_tokens(page, text_server, f"text-{variant}", variant)
    assert console_errors == []


@pytest.mark.parametrize("name", SHIPPED_TEXT)
def test_shipped_sentence_bundle_tokens_equal_python(name, page, http_server, console_errors):
    assert_same_tokens(page, http_server, name)
    assert console_errors == []


def assert_same_tokens(page, server, name, variant=None):
    """≥ 200 coordinates incl. ±5σ: the element's greedy ids equal Python onnxruntime's."""
    bundle = server.root / "models" / name
    m = json.loads((bundle / "manifest.json").read_text())
    variant = variant or m["text"]["variant"]
    assert m["text"]["variant"] == variant
    assert open_bundle(page, server, name) is True
    coords = validation_coords(m["pca"]["std"], n=256, seed=11)  # includes ±5σ extremes
    got = page.evaluate("async (b) => (await document.querySelector('latent-explorer').decode(b))", coords.tolist())
    want = [cut(row) for row in ort_greedy(bundle, coords).tolist()]
    assert [r["ids"] for r in got] == want
    tok = SentenceTokenizer.from_json((bundle / "tokenizer.json").read_text())
    assert [r["tokens"] for r in got] == [[tok.token(i) for i in row] for row in want]
    assert [r["text"] for r in got] == [tok.decode(row) for row in want]
    shown = {t for r in got for t in r["tokens"]}
    assert not shown & {"<s>", "</s>", "<pad>"}
    assert len({r["text"] for r in got}) > 1, "every coordinate decoded to the same sentence"


def test_sentence_is_shown_as_text(page, text_server, console_errors):
    assert open_bundle(page, text_server, "text-loop") is True
    x = page.locator("latent-explorer")
    Z = json.loads((text_server.root / "models" / "text-loop" / "manifest.json").read_text())["latent"]["size"]
    page.evaluate("(z) => { document.querySelector('latent-explorer').point = new Array(z).fill(0); }", Z)
    page.wait_for_function("document.querySelector('latent-explorer').shadowRoot.querySelector('.sentence').title !== ''")
    [row] = page.evaluate("(z) => document.querySelector('latent-explorer').decode([new Array(z).fill(0)])", Z)
    assert x.locator(".sentence").inner_text() == (row["text"] or "(empty sentence)")
    assert x.locator(".sentence *").count() == 0  # plain text, no markup
    rows = x.locator(".interpolate tbody tr")
    assert rows.count() == 7  # the homotopy table is open by default for sentences
    assert console_errors == []


def test_html_in_model_output_is_displayed_literally(page, text_server):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert open_bundle(page, text_server, "text-evil") is True
    x = page.locator("latent-explorer")
    page.get_by_role("button", name="Random").click()
    page.wait_for_function("document.querySelector('latent-explorer').shadowRoot.querySelector('.sentence').title !== ''")
    text = x.locator(".sentence").inner_text()
    assert PAYLOAD in text
    assert x.locator("img").count() == 0 and page.locator("img").count() == 0
    assert PAYLOAD in x.get_by_role("combobox", name="example", exact=True).locator("option").nth(1).inner_text()
    assert PAYLOAD in x.locator(".interpolate tbody").inner_text()
    page.wait_for_timeout(300)
    assert dialogs == []


def test_text_is_shown_plainly(page, text_server):
    """No token is marked any more (byte-level BPE has no unknown token): whatever the text, it is
    the paragraph's only content."""
    assert open_bundle(page, text_server, "text-loop") is True
    page.evaluate("""() => { const x = document.querySelector('latent-explorer');
        x.view.show({ ids: [3, 4], tokens: ['<unk>', 'dog'], text: '<unk> dog <b>x</b>' }); }""")
    s = page.locator("latent-explorer .sentence")
    assert s.inner_text() == "<unk> dog <b>x</b>" and page.locator("latent-explorer .sentence *").count() == 0


@pytest.mark.parametrize("name", SHIPPED_TEXT)
def test_sentences_along_an_axis_are_the_distinct_decodes(name, page, http_server, console_errors):
    """The sentence grid: 9 steps over ±2σ of PC1 around an anchor, each run of equal decodes
    listed once, in order; the sentences are Python onnxruntime's greedy decodes of those points."""
    bundle = http_server.root / "models" / name
    m = json.loads((bundle / "manifest.json").read_text())
    anchor = m["anchors"][0]["coords"]
    assert open_bundle(page, http_server, name) is True
    page.evaluate("(p) => { document.querySelector('latent-explorer').point = p; }", anchor)
    page.locator("latent-explorer .grid summary").click()
    page.wait_for_function("document.querySelector('latent-explorer').shadowRoot.querySelector('.grid')"
                           ".dataset.painted >= 1")
    shown = page.evaluate("[...document.querySelector('latent-explorer').shadowRoot"
                          ".querySelectorAll('.grid ol li .row-sentence')].map((s) => s.textContent)")
    n, span, sigma = 9, 2, m["pca"]["std"][0]
    step = 2 * span * sigma / (n - 1)
    points = np.tile(np.array(anchor, np.float64), (n, 1))
    points[:, 0] += [(i - (n - 1) / 2) * step for i in range(n)]
    tok = SentenceTokenizer.from_json((bundle / "tokenizer.json").read_text())
    texts = [tok.decode(cut(row)) for row in ort_greedy(bundle, points)]
    runs = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]
    assert shown == runs and len(runs) > 1
    assert m["anchors"][0]["text"] in runs  # the centre is the anchor, which the model reconstructs exactly
    assert console_errors == []


def test_a_sentence_poster_shows_before_the_graphs(page, text_server, console_errors):
    """The poster's text (computed at export by onnxruntime's greedy loop) is shown while loop.onnx
    is held back; the live decode then shows the same sentence."""
    m = json.loads((text_server.root / "models" / "text-loop" / "manifest.json").read_text())
    held, release = hold(page, "**/models/text-loop/loop.onnx")
    page.add_init_script(EVENTS)
    page.goto(f"{text_server.base_url}?model=text-loop")
    page.wait_for_function("window.events?.includes('latent-poster')")
    sentence = page.locator("latent-explorer .sentence")
    for _ in range(100):  # the worker asks for the graphs once the page has the manifest
        if held:
            break
        page.wait_for_timeout(50)
    assert held and page.evaluate("events") == ["latent-poster"]
    assert sentence.text_content() == (m["poster"]["text"] or "(empty sentence)")
    release()
    assert page.evaluate("document.querySelector('latent-explorer').ready.then(() => true)") is True
    assert page.evaluate("events") == ["latent-poster", "latent-render"]
    assert sentence.text_content() == (m["poster"]["text"] or "(empty sentence)")
    assert console_errors == []
