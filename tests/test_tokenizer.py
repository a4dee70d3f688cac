"""The sentence tokenizer (byte-level BPE, exporter/tokenizers/bpe.py): its normalization, the
Python/JS parity of ids and text (web/core/tokenizer.js loads the same tokenizer.json with
@huggingface/tokenizers), and the corpus readers (exporter/data)."""

import json
import random
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from exporter.data.sentences import prepare, read_sentence_file, read_wordnet
from exporter.errors import ArgumentError, DataError
from exporter.tokenizers.bpe import BOS, EOS, PAD, UNK, SentenceTokenizer, normalize

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases" / "tokenizer_cases.txt"
JS_LIBRARY = ROOT / "web" / "node_modules" / "@huggingface" / "tokenizers" / "dist" / "tokenizers.min.mjs"
WORDNET = Path("/usr/share/wordnet")


def read_cases():
    """Case lines, split on \\n only (the file holds U+2028-like characters on purpose)."""
    lines = CASES.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "cases file must end with a newline"
    return lines[:-1]


@pytest.fixture(scope="module")
def small():
    """A tokenizer learnt on the case file and a few sentences (vocabulary 400)."""
    return SentenceTokenizer.train(read_cases() + ["the cat sat on the mat.", "the dog sat on the log."] * 5, 400)


# --- (a) normalization, expected values written by hand from the module docstring ---

@pytest.mark.parametrize("text, expected", [
    ("", ""),
    ("  \t\n ", ""),
    ("Hello,   World!", "hello, world!"),
    ("Don\u2019t \u2018x\u2019 \u201cy\u201d", "don't 'x' \"y\""),
    ("cafe\u0301", "caf\u00e9"),                                    # NFC composes e + combining acute
    ("\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3", "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c3"),  # no final sigma
    ("a\u00a0b\u3000c\ufeffd\x1ce\u2028f", "a b c d e f"),            # the whole whitespace set
    ("\U0001F600 \u6771\u4eac <b>", "\U0001F600 \u6771\u4eac <b>"),
])
def test_normalization(text, expected):
    assert normalize(text) == expected


def test_specials_and_round_trip(small):
    assert [small.token(i) for i in (PAD, BOS, EOS, UNK)] == ["<pad>", "<s>", "</s>", "<unk>"]
    assert small.encode("</s> <pad>") != [EOS, PAD] and EOS not in small.encode("</s>")  # text never matches a special
    for line in read_cases():
        ids = small.encode(line)
        assert UNK not in ids and all(4 <= i < len(small) for i in ids)   # byte-level: no unknown token
        assert small.decode(ids) == normalize(line)                        # lossless up to the normalization
    with pytest.raises(ArgumentError, match="outside the vocabulary"):
        small.decode([len(small)])
    with pytest.raises(ArgumentError, match="at least 260"):
        SentenceTokenizer.train(["a b"], 100)
    again = SentenceTokenizer.from_json(small.to_json())
    assert again.encode("the cat") == small.encode("the cat")
    with pytest.raises(ArgumentError, match="tokenizer.json"):
        SentenceTokenizer.from_json("{}")


# --- (b) Python <-> JS parity: node runs @huggingface/tokenizers on the same tokenizer.json ---

NODE_SCRIPT = """
import { readFileSync } from "node:fs";
// The element's own seam, web/core/tokenizer.js, not a copy of its calls.
const { configureTokenizers, createTokenizer } = await import(process.argv[3]);
configureTokenizers(process.argv[2]);
const { json, texts, specials } = JSON.parse(readFileSync(0, "utf8"));
const tok = await createTokenizer(JSON.parse(json), { text: { specials } }, "file:///b/tokenizer.json",
                                  "file:///b/manifest.json");
process.stdout.write(JSON.stringify(texts.map((t) => { const ids = tok.encode(t); return [ids, tok.decode(ids)]; })));
"""


def run_js(tokenizer, texts, tmp_path):
    """[[ids, decoded text], ...] computed for each text by web/core/tokenizer.js (the element's
    tokenizer, on @huggingface/tokenizers) under node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: cannot check Python/JS tokenizer parity")
    if not JS_LIBRARY.is_file():
        pytest.fail(f"{JS_LIBRARY} missing: run npm ci --prefix web")
    script = tmp_path / "run_tokenizer.mjs"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    payload = json.dumps({"json": tokenizer.to_json(), "texts": texts,
                          "specials": {"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK}})
    proc = subprocess.run([node, str(script), JS_LIBRARY.as_uri(), (ROOT / "web" / "core" / "tokenizer.js").as_uri()],
                          input=payload, capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert proc.returncode == 0, f"node failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def assert_parity(tokenizer, texts, tmp_path):
    js = run_js(tokenizer, texts, tmp_path)
    assert len(js) == len(texts)
    mismatches = []
    for i, (text, (js_ids, js_text)) in enumerate(zip(texts, js)):
        ids = tokenizer.encode(text)
        if ids != js_ids or tokenizer.decode(ids) != js_text:
            mismatches.append(f"#{i} {text[:80]!r}:\n  py {ids[:12]} {tokenizer.decode(ids)[:60]!r}\n"
                              f"  js {js_ids[:12]} {js_text[:60]!r}")
    assert not mismatches, f"{len(mismatches)} of {len(texts)} differ:\n" + "\n".join(mismatches[:10])
    return len(texts)


def test_js_parity_on_cases_file(small, tmp_path):
    texts = read_cases()
    assert len(texts) >= 40 and "" in texts
    assert_parity(small, texts, tmp_path)


def test_js_parity_on_the_wordnet_test_split(tmp_path):
    """Every sentence of the WordNet test split as the training code splits it (normalized
    strings), typed as a person would (capitals, curly quotes), through a tokenizer learnt on the
    training split with the default vocabulary, as the shipped model's is."""
    if not (WORDNET / "data.noun").is_file():
        pytest.skip(f"WordNet not installed in {WORDNET} (apt-get install wordnet-base)")
    from exporter.configs import TextTrainConfig
    cfg = TextTrainConfig()
    split = prepare(read_wordnet(), normalize, seed=cfg.seed, source="wordnet")
    tok = SentenceTokenizer.train(split.train, cfg.vocab_size, cfg.min_frequency)
    texts = split.test + [s.capitalize().replace("'", "\u2019") for s in split.test[::4]]
    n = assert_parity(tok, texts, tmp_path)
    print(f"WordNet test split: {len(split.test)} sentences (+ {n - len(split.test)} retyped), JS ids and text == Python")


def test_js_parity_on_every_assigned_code_point(small, tmp_path):
    """Each code point Python's Unicode database knows, between letters and digits: the
    normalization (NFC, whitespace, lowercase) and the byte-level split agree everywhere.
    Characters unassigned in Python's (older) Unicode are skipped."""
    chars = [chr(cp) for cp in range(0x110000)
             if not 0xD800 <= cp <= 0xDFFF and unicodedata.category(chr(cp)) != "Cn"]
    texts = [" ".join(f"a{c}b 1{c}2" for c in chars[i:i + 2000]) for i in range(0, len(chars), 2000)]
    assert_parity(small, texts, tmp_path)


# --- (d) corpus files and prepare() ---

@pytest.mark.parametrize("name, content, problem", [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\t\n\r\n   ", "no sentences"),
    ("binary.txt", b"abc\x00def\n", "binary file (NUL byte at offset 3)"),
    ("latin1.txt", b"ok line\n\xff\xfe abc\n", "not valid UTF-8 (byte offset 8)"),
])
def test_bad_sentence_files(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_sentence_file(path)
    assert err.value.path == str(path) and problem in str(err.value) and name in str(err.value)


def test_missing_sentence_file(tmp_path):
    with pytest.raises(DataError, match="nope.txt: file not found"):
        read_sentence_file(tmp_path / "nope.txt")


def test_read_sentence_file(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes("\ufeffFirst one.\r\n\n  Second\u2028still second  \nCafé\n".encode("utf-8"))
    assert read_sentence_file(path) == ["First one.", "Second\u2028still second", "Café"]


def test_prepare_dedupes_and_splits():
    sentences = ["Hello world", "hello   WORLD", "Hello world!", "  ", "...", "one two three four", "x"]
    split = prepare(sentences, normalize, fractions=(1.0, 0.0, 0.0))
    assert sorted(split.train) == ["...", "hello world", "hello world!", "one two three four", "x"]
    assert split.valid == [] and split.test == []


def test_prepare_is_deterministic_and_order_independent():
    sentences = [f"sentence number {i}" for i in range(200)]
    first = prepare(sentences, normalize, seed=3)
    shuffled = sentences[:]
    random.Random(1).shuffle(shuffled)
    assert prepare(shuffled, normalize, seed=3) == first
    assert [len(part) for part in first] == [180, 10, 10]
    assert prepare(sentences, normalize, seed=4) != first
    assert sorted(first.train + first.valid + first.test) == sorted(sentences)


def test_prepare_nothing_usable():
    with pytest.raises(DataError, match="corpus.txt: no usable sentence"):
        prepare(["", " \t ", "\u3000"], normalize, source="corpus.txt")
    with pytest.raises(ValueError):
        prepare(["a"], normalize, fractions=(0.5, 0.5, 0.5))


# --- (e) the real WordNet corpus ---

def test_read_wordnet_missing_folder(tmp_path):
    with pytest.raises(DataError, match="wn: WordNet folder not found"):
        read_wordnet(tmp_path / "wn")


@pytest.mark.skipif(not (WORDNET / "data.noun").is_file(),
                    reason="WordNet not installed (/usr/share/wordnet/data.noun absent; apt package wordnet-base)")
def test_read_wordnet_examples():
    examples = read_wordnet(WORDNET)
    assert len(examples) > 40000
    assert "I can breathe better when the air is clean" in examples  # breathe, data.verb
    assert "she loaded her shopping into the car" in examples  # shopping, data.noun
    assert all(e == e.strip() and e and '"' not in e for e in examples)
    sentence_like = [e for e in examples if len(e.split()) >= 3 and e[0].isalpha()]
    assert len(sentence_like) > 0.8 * len(examples)
