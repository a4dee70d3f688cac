"""Tokenizer rule, Python/JS parity, Vocab, and corpus readers (exporter/tokenizers, exporter/data, web/core/words.js)."""

import json
import random
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from exporter.data.sentences import prepare, read_sentence_file, read_wordnet
from exporter.errors import DataError
from exporter.tokenizers.words import Vocab, detokenize, tokenize

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "cases" / "tokenizer_cases.txt"
JS_MODULE = ROOT / "web" / "core" / "words.js"
WORDNET = Path("/usr/share/wordnet")

# --- (a) the rule, expected values written by hand from the module docstring ---

RULE_CASES = [
    ("", []),
    ("  \t\n ", []),
    ("Hello, World!", ["hello", ",", "world", "!"]),
    ("Don't panic", ["don't", "panic"]),
    ("Don\u2019t", ["don't"]),
    ("\u2018quoted\u2019 \u201cdouble\u201d", ["'", "quoted", "'", '"', "double", '"']),
    ("rock'n'roll o'clock", ["rock'n'roll", "o'clock"]),
    ("the dogs' bowl", ["the", "dogs", "'", "bowl"]),
    ("'tis", ["'", "tis"]),
    ("it''s", ["it", "'", "'", "s"]),
    ("`dog' is", ["`", "dog", "'", "is"]),
    ("3.14 and 1,000,000", ["3.14", "and", "1,000,000"]),
    ("3. 14 and 3 .14", ["3", ".", "14", "and", "3", ".", "14"]),
    ("v1.2.3 10.5km", ["v1.2.3", "10.5km"]),
    ("a.m. 42.", ["a", ".", "m", ".", "42", "."]),
    ("x,y 1,a", ["x", ",", "y", "1", ",", "a"]),
    ("10:30 1.,2 1'000", ["10", ":", "30", "1", ".", ",", "2", "1'000"]),
    ("well-known", ["well", "-", "known"]),
    ("snake_case", ["snake", "_", "case"]),
    ("...?!", [".", ".", ".", "?", "!"]),
    ("$5.99 20%", ["$", "5.99", "20", "%"]),
    ("Café naïve Straße NIÑO", ["café", "naïve", "straße", "niño"]),
    ("cafe\u0301", ["café"]),  # NFC composes e + combining acute
    ("ΕΛΛΗΝΙΚΆ ΟΔΥΣΣΕΥΣ", ["ελληνικά", "οδυσσευς"]),  # final sigma
    ("РУССКИЙ язык", ["русский", "язык"]),
    ("x² ½ ٣٤", ["x²", "½", "٣٤"]),  # Unicode digits and numbers (N*) are word characters
    ("a\u00a0b\u3000c\ufeffd\x1ce", ["a", "b", "c", "d", "e"]),  # all in the whitespace set
    ("hi\U0001F600\U0001F44D!", ["hi", "\U0001F600", "\U0001F44D", "!"]),
    ("<img src=x onerror=alert(1)>", ["<", "img", "src", "=", "x", "onerror", "=", "alert", "(", "1", ")", ">"]),
]


@pytest.mark.parametrize("text, expected", RULE_CASES)
def test_tokenize_rule(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize("tokens, expected", [
    ([], ""),
    (["hello", ",", "world", "!"], "hello, world!"),
    (["the", "dogs", "'", "bowl"], "the dogs' bowl"),
    (["well", "-", "known", "e", "-", "mail"], "well-known e-mail"),
    (["(", "a", ")", "[", "b", "]", "$", "5", "20", "%"], "(a) [b] $5 20%"),
    (["`", "dog", "'", "is", "it", ";", "x", ":", "y", "?"], "`dog' is it; x: y?"),
    (["3", ".", "14"], "3. 14"),  # must not re-join into the single token 3.14
])
def test_detokenize_rule(tokens, expected):
    assert detokenize(tokens) == expected


def test_tokenize_rejects_non_strings():
    with pytest.raises(TypeError):
        tokenize(b"bytes")


def read_cases():
    """Case lines, split on \\n only (the file holds U+2028-like characters on purpose)."""
    lines = CASES.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "cases file must end with a newline"
    return lines[:-1]


@pytest.mark.parametrize("line", read_cases())
def test_detokenize_round_trips(line):
    tokens = tokenize(line)
    assert tokenize(detokenize(tokens)) == tokens


# --- (b) Python <-> JS parity: node runs web/core/words.js on the same strings ---

NODE_SCRIPT = """
import { readFileSync } from "node:fs";
const { tokenize, detokenize } = await import(process.argv[2]);
const texts = JSON.parse(readFileSync(0, "utf8"));
const out = texts.map((t) => { const tokens = tokenize(t); return [tokens, detokenize(tokens)]; });
process.stdout.write(JSON.stringify(out));
"""


def run_js(texts, tmp_path):
    """[[tokens, detokenized], ...] computed by the JS module for each text."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: cannot check Python/JS tokenizer parity")
    script = tmp_path / "run_tokenizer.mjs"
    script.write_text(NODE_SCRIPT, encoding="utf-8")
    proc = subprocess.run(
        [node, str(script), JS_MODULE.as_uri()],
        input=json.dumps(texts), capture_output=True, text=True, encoding="utf-8", timeout=120,
    )
    assert proc.returncode == 0, f"node failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def assert_parity(texts, js_results):
    assert len(js_results) == len(texts)
    mismatches = []
    for i, (text, (js_tokens, js_text)) in enumerate(zip(texts, js_results)):
        py_tokens = tokenize(text)
        if py_tokens != js_tokens or detokenize(py_tokens) != js_text:
            mismatches.append(f"#{i} {text!r}:\n  py {py_tokens} {detokenize(py_tokens)!r}\n  js {js_tokens} {js_text!r}")
    assert not mismatches, f"{len(mismatches)} of {len(texts)} differ:\n" + "\n".join(mismatches[:10])


def test_js_parity_on_cases_file(tmp_path):
    texts = read_cases()
    assert len(texts) >= 30 and "" in texts
    assert_parity(texts, run_js(texts, tmp_path))


def test_js_parity_on_every_assigned_code_point(tmp_path):
    """Each code point Python's Unicode database knows, between letters and digits.

    This is what guarantees the letter/digit classes, whitespace set, lowercasing
    and NFC agree; characters unassigned in Python's (older) Unicode are skipped.
    """
    chars = [chr(cp) for cp in range(0x110000)
             if not 0xD800 <= cp <= 0xDFFF and unicodedata.category(chr(cp)) != "Cn"]
    texts = [" ".join(f"a{c}b 1{c}2" for c in chars[i:i + 2000]) for i in range(0, len(chars), 2000)]
    assert_parity(texts, run_js(texts, tmp_path))


# --- (c) Vocab ---

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"], ["the", "end"]]


def test_vocab_specials_and_frequency_order():
    vocab = Vocab.build(CORPUS)
    assert vocab.itos[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)
    # the:3, then cat/sat:2 (alphabetical), then the 1-count tokens alphabetically
    assert vocab.itos[4:] == ["the", "cat", "sat", "a", "dog", "end", "ran"]


def test_vocab_is_deterministic_and_truncates():
    shuffled = [list(reversed(s)) for s in reversed(CORPUS)]
    assert Vocab.build(shuffled).itos == Vocab.build(CORPUS).itos
    small = Vocab.build(CORPUS, max_size=6)
    assert small.itos == ["<pad>", "<unk>", "<s>", "</s>", "the", "cat"]
    with pytest.raises(ValueError):
        Vocab.build(CORPUS, max_size=3)


def test_vocab_encode_decode_and_unk():
    vocab = Vocab.build(CORPUS, max_size=6)
    ids = vocab.encode(["the", "cat", "zebra", "sat"])
    assert ids == [4, 5, 1, 1]
    assert vocab.decode(ids) == ["the", "cat", "<unk>", "<unk>"]
    assert vocab.detokenize(vocab.decode([4, 5])) == "the cat"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.decode([6])


def test_vocab_ignores_literal_specials_in_data():
    vocab = Vocab.build([["<unk>", "x", "<s>"]])
    assert vocab.itos == ["<pad>", "<unk>", "<s>", "</s>", "x"]


def test_vocab_json_round_trip():
    vocab = Vocab.build(CORPUS)
    data = json.loads(json.dumps(vocab.to_json()))
    assert data == {"specials": ["<pad>", "<unk>", "<s>", "</s>"], "tokens": vocab.itos[4:]}
    again = Vocab.from_json(data)
    assert again.itos == vocab.itos and again.encode(["dog"]) == vocab.encode(["dog"])
    for bad in [[], {"tokens": []}, {"specials": ["<unk>"], "tokens": []}, {"specials": list(Vocab.SPECIALS), "tokens": [1]},
                {"specials": list(Vocab.SPECIALS), "tokens": ["a", "a"]}]:
        with pytest.raises(ValueError):
            Vocab.from_json(bad)


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


def test_prepare_dedupes_filters_and_splits():
    sentences = ["Hello world", "hello   WORLD", "Hello world!", "  ", "...", "one two three four", "x"]
    split = prepare(sentences, tokenize, max_tokens=3, fractions=(1.0, 0.0, 0.0))
    assert sorted(split.train) == [[".", ".", "."], ["hello", "world"], ["hello", "world", "!"], ["x"]]
    assert split.valid == [] and split.test == []


def test_prepare_is_deterministic_and_order_independent():
    sentences = [f"sentence number {i}" for i in range(200)]
    first = prepare(sentences, tokenize, seed=3)
    shuffled = sentences[:]
    random.Random(1).shuffle(shuffled)
    assert prepare(shuffled, tokenize, seed=3) == first
    assert [len(part) for part in first] == [180, 10, 10]
    assert prepare(sentences, tokenize, seed=4) != first
    assert sorted(map(tuple, first.train + first.valid + first.test)) == sorted(tuple(tokenize(s)) for s in sentences)


def test_prepare_nothing_usable():
    with pytest.raises(DataError, match="corpus.txt: no usable sentence"):
        prepare(["", "a b c d e"], tokenize, max_tokens=4, source="corpus.txt")
    with pytest.raises(ValueError):
        prepare(["a"], tokenize, fractions=(0.5, 0.5, 0.5))


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
