"""The sentence tokenizer: byte-level BPE from the `tokenizers` library, saved as one
`tokenizer.json` that the browser loads with `@huggingface/tokenizers` (web/core/tokenizer.js).

One file, one library on both sides: the normalization lives *inside* tokenizer.json, so the
browser applies exactly what training applied:
  NFC; curly quotes ‘ ’ “ ” -> ' "; every run of whitespace (the union of Python's str.isspace,
  JavaScript's \\s and Unicode White_Space, spelled out in `SPACE`) -> one space; strip; Σ -> σ
  (JavaScript's toLowerCase writes a word-final sigma as ς, Rust's lowercase never does: mapping
  it first makes both agree); lowercase.
Byte-level BPE has no unknown token: every string encodes. The four specials are ids 0-3 of the
vocabulary but are not matched in text (tokenizer.json has no `added_tokens`), so a typed
"</s>" is read as the characters <, /, s, >, never as the end of the sentence.

    tok = SentenceTokenizer.train(sentences, vocab_size=4000)
    tok.encode("The cat sat.")     -> [ids]     (no <s>, no </s>)
    tok.decode(ids)                -> "the cat sat."  (display text: the prefix space removed)

tests/test_tokenizer.py checks that the browser gives the same ids and the same text.
"""
import json

from ..errors import ArgumentError

SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")   # ids 0-3; <unk> is only the word-dropout token
PAD, BOS, EOS, UNK = range(4)
SPACE = "\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


def normalizer():
    """The normalization every sentence goes through, as a `tokenizers` normalizer."""
    from tokenizers import Regex, normalizers
    return normalizers.Sequence([
        normalizers.NFC(), *(normalizers.Replace(a, b) for a, b in QUOTES.items()),
        normalizers.Replace(Regex(f"[{SPACE}]+"), " "), normalizers.Strip(), normalizers.Replace("\u03a3", "\u03c3"),
        normalizers.Lowercase()])


def normalize(text):
    """The text as the tokenizer sees it: what training deduplicates on."""
    return normalizer().normalize_str(text)


class SentenceTokenizer:
    """A byte-level BPE `tokenizers.Tokenizer` behind the small protocol the exporter uses."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        got = [tokenizer.id_to_token(i) for i in range(len(SPECIALS))]
        if got != list(SPECIALS):
            raise ArgumentError(f"tokenizer: ids 0-3 must be {list(SPECIALS)}, got {got}")

    @classmethod
    def train(cls, sentences, vocab_size=4000, min_frequency=2):
        """BPE merges learnt from `sentences` (the training split only)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
        if vocab_size < 256 + len(SPECIALS):
            raise ArgumentError(f"vocab_size {vocab_size}: byte-level BPE needs at least {256 + len(SPECIALS)} "
                                "(256 bytes and the 4 specials)")
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizer()
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(SPECIALS),
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(list(sentences), trainer=trainer)
        data = json.loads(tok.to_str())
        data["added_tokens"] = []  # the specials stay in the vocabulary, but text never matches them
        return cls.from_json(json.dumps(data, ensure_ascii=False))

    @classmethod
    def from_json(cls, text):
        """From the contents of a tokenizer.json (a str)."""
        from tokenizers import Tokenizer
        try:
            return cls(Tokenizer.from_str(text))
        except Exception as e:  # the library raises a bare Exception for a malformed file
            raise ArgumentError(f"tokenizer.json: not a tokenizer this version reads ({e})") from None

    def to_json(self):
        """The tokenizer.json contents (compact: it is downloaded by the browser)."""
        return self.tok.to_str()

    def __len__(self):
        return self.tok.get_vocab_size()

    def encode(self, text):
        """Ids of `text` (any str): no <s>, no </s>."""
        return self.tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts):
        return [e.ids for e in self.tok.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids):
        """Display text of ids (already cut before </s>): the bytes they stand for, with the
        prefix space (and any space at either end) removed. Invalid UTF-8 shows as U+FFFD."""
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < len(self)]
        if bad:
            raise ArgumentError(f"token id {bad[0]} is outside the vocabulary (size {len(self)})")
        return self.tok.decode(ids, skip_special_tokens=False).strip(" ")

    def token(self, i):
        """The vocabulary entry of id `i` (a byte-level string such as 'Ġthe')."""
        return self.tok.id_to_token(int(i))

    def sentence(self, ids):
        """Display text of a greedy row: cut at the first </s>."""
        ids = [int(i) for i in ids]
        return self.decode(ids[:ids.index(EOS)] if EOS in ids else ids)
