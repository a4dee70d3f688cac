"""Full points in the browser (bundle format 2), sentence side: every anchor decodes to exactly
torch's greedy decode of its mu (for the shipped bundle: to its own sentence), the JS tokenizer
gives Python's ids and the browser's encoder Python's coordinates on hundreds of real test
sentences, and the sentence box encodes what it is given, in any script (cut, with a note, past
max_len - 1 tokens; a message for nothing to read) and shows the model's decode of it."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, SHIPPED
from playwright.sync_api import expect
from test_text_browser import SUBJECTS, VERBS, cut, text_server, text_site  # noqa: F401  (session fixtures)

from exporter.export.graphs import session
from exporter.export.text_checks import ort_greedy
from exporter.models.text_vae import EOS, PAD
from exporter.tokenizers.bpe import SentenceTokenizer, normalize

pytestmark = pytest.mark.browser

WORDNET = Path("/usr/share/wordnet")
SHIPPED_TEXT = [n for n in SHIPPED if json.loads((ROOT / "models" / n / "manifest.json").read_text())["kind"] == "text"]
HOSTILE = ["", "   ", "Ὀδυσσεὺς 😀 naïve café", "<img src=x onerror=alert(1)>", "%00 \u0000 \u202e", "Don't panic!",
           " ".join(["the dog sees the moon"] * 8)]  # the last is 40 words: longer than max_len - 1


def open_bundle(page, server, name):
    page.goto(f"{server.base_url}?model={name}")
    page.wait_for_function("!!customElements.get('latent-explorer') && !!document.querySelector('latent-explorer')")
    return page.evaluate("document.querySelector('latent-explorer').ready.then(() => true, (e) => e.message)")


def manifest(bundle):
    return json.loads((bundle / "manifest.json").read_text())


def tokenizer_of(bundle):
    return SentenceTokenizer.from_json((bundle / manifest(bundle)["text"]["tokenizer"]).read_text())


def ort_encode(bundle, texts):
    """Python's ids (SentenceTokenizer.encode, cut to max_len - 1) and encoder.onnx's coordinates."""
    T = manifest(bundle)["text"]["max_len"]
    tok = tokenizer_of(bundle)
    ids = [tok.encode(s) for s in texts]
    tokens = np.full((len(texts), T), PAD, np.int64)
    for i, row in enumerate(ids):
        row = row[:T - 1] + [EOS]
        tokens[i, :len(row)] = row
    lengths = np.array([min(len(r), T - 1) + 1 for r in ids], np.int64)
    return ids, session(bundle / "encoder.onnx").run(["coords"], {"tokens": tokens, "lengths": lengths})[0]


def torch_greedy_of_anchors(run, m):
    """torch's greedy decode of each anchor's mu, from the training run the bundle was exported
    from (with the bundle's int8 weights when it has them)."""
    from exporter.export.weights import round_module
    from exporter.space.encode import sentence_means
    from exporter.train.checkpoint import config
    from exporter.train.text import TextTrainConfig, load_corpus, load_text_model
    model, state = load_text_model(run)
    tok = SentenceTokenizer.from_json(state["tokenizer"])
    _, _, data, _ = load_corpus(config(TextTrainConfig, state, "train_config", run), tok)
    mu = sentence_means(model, data.train)[[a["index"] for a in m["anchors"]]]
    if "quantization" in m["metrics"]:
        model = round_module(model, m["metrics"]["quantization"]["decoder"])[0].eval()
    with torch.no_grad():
        return model.reconstruct(torch.from_numpy(mu))[0].numpy()


@pytest.mark.parametrize("variant", ["loop", "unrolled"])
def test_every_sentence_anchor_decodes_as_torch_greedy_of_its_mu(variant, page, text_server, console_errors):
    bundle = text_server.root / "models" / f"text-{variant}"
    anchors = manifest(bundle)["anchors"]
    assert open_bundle(page, text_server, f"text-{variant}") is True
    got = page.evaluate("(b) => document.querySelector('latent-explorer').decode(b)", [a["coords"] for a in anchors])
    want = torch_greedy_of_anchors(text_server.root.parent / "run", manifest(bundle))
    assert [r["ids"] for r in got] == [cut(row) for row in want.tolist()]
    tok = tokenizer_of(bundle)
    assert [r["text"] for r in got] == [tok.decode(cut(row)) for row in want.tolist()]
    print(f"{variant}: {len(anchors)} anchors; {sum(r['text'] == a['text'] for r, a in zip(got, anchors))} "
          "decode to their own sentence")
    assert console_errors == []


@pytest.mark.parametrize("name", SHIPPED_TEXT)
def test_every_shipped_sentence_anchor_decodes_as_python_onnxruntime(name, page, http_server, console_errors):
    """The export gate proved the decoder equal to torch's greedy decode of each anchor's mu, and
    chose anchors the model reconstructs exactly: in the browser, each decodes to its own text."""
    bundle = http_server.root / "models" / name
    anchors = manifest(bundle)["anchors"]
    assert open_bundle(page, http_server, name) is True
    got = page.evaluate("(b) => document.querySelector('latent-explorer').decode(b)", [a["coords"] for a in anchors])
    assert [r["ids"] for r in got] == [cut(row) for row in ort_greedy(bundle, [a["coords"] for a in anchors]).tolist()]
    assert [r["text"] for r in got] == [a["text"] for a in anchors]
    print(f"{name}: all {len(anchors)} anchors decode in the browser to their own sentence")
    assert console_errors == []


def tiny_corpus_sentences(site):
    """Every sentence of the tiny test corpus (train, valid and test: 257), as people type them."""
    lines = (site.parent / "corpus.txt").read_text().splitlines()
    return [s.capitalize() if i % 3 == 0 else s for i, s in enumerate(lines)]


def wordnet_test_sentences(n=300):
    if not (WORDNET / "data.noun").is_file():
        pytest.skip(f"WordNet not installed in {WORDNET} (apt-get install wordnet-base)")
    from exporter.data.sentences import prepare, read_wordnet
    from exporter.train.text import TextTrainConfig
    split = prepare(read_wordnet(), normalize, seed=TextTrainConfig().seed, source="wordnet")
    return [t.capitalize() if i % 4 == 0 else t for i, t in enumerate(split.test[:n])]


ENCODE_IN_PAGE = """async (texts) => {
    const x = document.querySelector('latent-explorer');
    return { ids: texts.map((t) => x.model.tokenizer.encode(t)), coords: await x.encode(texts) };
}"""


def assert_encoder_parity(page, bundle, texts):
    got = page.evaluate(ENCODE_IN_PAGE, texts)
    ids, coords = ort_encode(bundle, texts)
    assert got["ids"] == ids
    diff = np.abs(np.array(got["coords"]) - coords).max()
    print(f"{bundle.name}: {len(texts)} sentences, identical ids; browser vs python encoder max abs diff {diff:.3g}")
    assert diff <= 1e-5


@pytest.mark.parametrize("variant", ["loop", "unrolled"])
def test_sentence_encoder_matches_python_on_the_test_corpus(variant, page, text_server, console_errors):
    texts = tiny_corpus_sentences(text_server.root) + HOSTILE
    assert len(texts) >= 200
    assert open_bundle(page, text_server, f"text-{variant}") is True
    assert_encoder_parity(page, text_server.root / "models" / f"text-{variant}", texts)
    assert console_errors == []


@pytest.mark.parametrize("name", ["text-unrolled", *SHIPPED_TEXT])
def test_sentence_encoder_matches_python_on_wordnet_test_sentences(name, request, page, console_errors):
    """300 WordNet test sentences (capitals, punctuation, some longer than max_len - 1 tokens of
    the tiny vocabulary) through the test bundle (the full encoder path) and through every
    shipped sentence bundle."""
    texts = wordnet_test_sentences() + HOSTILE
    server = request.getfixturevalue("text_server" if name.startswith("text-") else "http_server")
    bundle = server.root / "models" / name
    if "encoder" not in manifest(bundle)["graphs"]:
        pytest.fail(f"{name} has no encoder graph: re-export it")
    assert open_bundle(page, server, name) is True
    assert_encoder_parity(page, bundle, texts)
    assert console_errors == []


# --- the sentence box ----------------------------------------------------------------------------

def type_sentence(page, text):
    box = page.locator("latent-explorer").get_by_placeholder("Type a sentence and press Enter")
    box.fill(text)
    box.press("Enter")


SETTLED = """(n) => { const x = document.querySelector('latent-explorer'); const r = window.renders ?? [];
  return changes.length > n && !x._drawing && r.length && r.at(-1).point.every((v, i) => v === x.point[i]); }"""
RECORD = """() => { window.changes = []; window.renders = []; const x = document.querySelector('latent-explorer');
  x.addEventListener('latent-change', (e) => changes.push(e.detail));
  x.addEventListener('latent-render', (e) => renders.push(e.detail)); }"""


def test_sentence_box_encodes_and_shows_the_models_decode(page, text_server, console_errors):
    bundle = text_server.root / "models" / "text-unrolled"
    m = manifest(bundle)
    assert open_bundle(page, text_server, "text-unrolled") is True
    page.evaluate(RECORD)
    x = page.locator("latent-explorer")
    sentence = f"{SUBJECTS[1].capitalize()} {VERBS[2]} the river."  # a sentence of the corpus: every word known
    type_sentence(page, sentence)
    page.wait_for_function(SETTLED, arg=0)
    change = page.evaluate("changes.at(-1)")
    ids, coords = ort_encode(bundle, [sentence])
    assert change["source"] == "sentence" and change["input"] == {"text": sentence, "ids": ids[0], "truncated": False}
    np.testing.assert_allclose(change["point"], coords[0], atol=1e-5)
    want = cut(ort_greedy(bundle, [change["point"]])[0].tolist())
    tok = tokenizer_of(bundle)
    assert x.locator(".sentence").get_attribute("title") == tok.decode(want)
    assert x.locator(".sentence").inner_text() == (tok.decode(want) or "(empty sentence)")
    assert x.locator(".sentence-box .note").is_hidden()  # nothing cut
    options = x.locator("select[aria-label='interpolate from'] option").all_text_contents()
    assert options[-1] == f"your sentence: {sentence}"
    # Longer than max_len - 1 tokens: cut, and said so; the point is the encoding of what was read.
    words = " ".join(["the dog sees the moon"] * 6) + "."
    assert len(tok.encode(words)) > m["text"]["max_len"] - 1
    type_sentence(page, words)
    page.wait_for_function(SETTLED, arg=1)
    change = page.evaluate("changes.at(-1)")
    assert change["input"]["truncated"] is True and len(change["input"]["ids"]) == m["text"]["max_len"] - 1
    np.testing.assert_allclose(change["point"], ort_encode(bundle, [words])[1][0], atol=1e-5)
    note = x.locator(".sentence-box .note")
    assert note.is_visible()
    n, room = len(tok.encode(words)), m["text"]["max_len"] - 1
    assert f"Your sentence has {n} tokens; the model reads at most {room}, so it was cut after “" in note.inner_text()
    assert console_errors == []


@pytest.mark.parametrize("text, says", [("", "Type a sentence first"), ("   \t ", "Type a sentence first"),
                                        ("\u3000\ufeff", "Type a sentence first")])
def test_an_empty_sentence_gets_a_message(text, says, page, text_server, console_errors):
    assert open_bundle(page, text_server, "text-loop") is True
    page.evaluate(RECORD)
    type_sentence(page, text)
    note = page.locator("latent-explorer .sentence-box .note")
    note.wait_for()
    assert says in note.inner_text() and "error" in note.get_attribute("class")
    page.wait_for_timeout(300)
    assert page.evaluate("changes.length") == 0
    assert console_errors == []


@pytest.mark.parametrize("text", ["Ὀδυσσεὺς 😀 naïve café 東京", "<img src=x onerror=alert(1)>", "%00 \u202e drawkcab",
                                  "שלום עולם مرحبا", "한국어 ΣΊΣΥΦΟΣ"])
def test_any_script_is_encoded(text, page, text_server, console_errors):
    """Byte-level BPE reads every script: the ids are Python's, the point is Python's encoding,
    nothing is said unless the sentence was cut (the tiny vocabulary spends many tokens on it)."""
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    bundle = text_server.root / "models" / "text-loop"
    assert open_bundle(page, text_server, "text-loop") is True
    page.evaluate(RECORD)
    type_sentence(page, text)
    page.wait_for_function(SETTLED, arg=0)
    change = page.evaluate("changes.at(-1)")
    np.testing.assert_allclose(change["point"], ort_encode(bundle, [text])[1][0], atol=1e-5)
    ids = ort_encode(bundle, [text])[0][0]
    assert change["input"]["ids"] == ids[:manifest(bundle)["text"]["max_len"] - 1]
    note = page.locator("latent-explorer .sentence-box .note")
    if change["input"]["truncated"]:
        assert note.inner_text().startswith(f"Your sentence has {len(ids)} tokens")
    else:
        assert note.is_hidden()
    assert page.locator("img").count() == 0 and dialogs == []
    assert console_errors == []


def test_without_an_encoder_there_is_no_sentence_box(page, text_server, console_errors):
    m = manifest(text_server.root / "models" / "text-unrolled")
    del m["graphs"]["encoder"]
    page.route("**/models/text-unrolled/manifest.json", lambda r: r.fulfill(body=json.dumps(m), content_type="application/json"))
    assert open_bundle(page, text_server, "text-unrolled") is True
    x = page.locator("latent-explorer")
    assert x.locator(".sentence-box").count() == 0 and x.locator(".sentence").count() == 1
    expect(x.locator(".interpolate tbody tr")).to_have_count(7)  # decoded after the view (shortest job first)
    assert console_errors == []


def test_the_sentence_page_fits_a_phone(page, text_server, console_errors):
    page.set_viewport_size({"width": 360, "height": 740})
    assert open_bundle(page, text_server, "text-unrolled") is True
    type_sentence(page, " ".join(["the small house"] * 15))  # over max_len - 1 tokens: a note
    page.locator("latent-explorer .sentence-box .note").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for part in (".sentence", ".sentence-box input", ".sentence-box .note", ".interpolate select"):
        box = page.locator(f"latent-explorer {part}").first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, part
    assert console_errors == []
