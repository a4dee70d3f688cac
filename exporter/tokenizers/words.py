"""Word tokenizer shared byte-for-byte in behaviour with web/core/words.js.

The browser must turn typed text into the same ids the model was trained on, so
the rule is deliberately small enough to be written twice and tested for parity
(tests/test_tokenizer.py runs both on tests/cases/tokenizer_cases.txt).

Rule for tokenize(text):
  1. NFC-normalize; map curly quotes ‘ ’ to ' and “ ” to "; lowercase
     (Python str.lower() / JS toLowerCase(): full Unicode mapping, incl. final sigma).
  2. A word token is a maximal run of letters and digits (Unicode general category
     L* or N*; Python `[^\\W_]`, JS `[\\p{L}\\p{N}]`), where two runs are joined
     into one token by a single apostrophe between them (don't, o'clock,
     rock'n'roll) or by a single '.' or ',' between two ASCII digits
     (3.14, 1,000, v1.2.3).
  3. Whitespace separates tokens and is dropped. Whitespace is the explicit set
     _SPACE below (the union of Python's str.isspace() and JS `\\s`, which
     disagree on U+001C-001F, U+0085 and U+FEFF).
  4. Every other character (punctuation, symbols, emoji, combining marks that NFC
     could not compose) is a token of its own.

Examples:
  "Don't panic!"          -> ["don't", "panic", "!"]
  "the dogs' bowl"        -> ["the", "dogs", "'", "bowl"]
  "'tis 3.14, or 1,000"   -> ["'", "tis", "3.14", ",", "or", "1,000"]
  "well-known Straße..."  -> ["well", "-", "known", "straße", ".", ".", "."]
  "  \\t "                -> []

Caveat: letter/digit classes come from each runtime's Unicode database (Python
3.11: Unicode 14; Node 20: Unicode 17). They agree on every code point assigned
in Unicode 14 (checked by the parity test); characters assigned later may be a
word character in JS and a one-character token in Python. They are <unk> anyway.

detokenize(tokens) joins tokens with single spaces, except: no space before
. , ! ? ; : ) ] } % ' - /   and no space after ( [ { $ ` - /.
A lone ' is treated as closing (possessive dogs', `quoted'), hence "' tis".
For any text, tokenize(detokenize(tokenize(text))) == tokenize(text).
"""

import re
import unicodedata
from collections import Counter

_SPACE = r"\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_W = r"[^\W_]"  # letter or digit: in Python's re this is exactly categories L* and N*
_TOKEN = re.compile(rf"{_W}+(?:(?:'|(?<=[0-9])[.,](?=[0-9])){_W}+)*|[^{_SPACE}]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})

NO_SPACE_BEFORE = frozenset(". , ! ? ; : ) ] } % ' - /".split())
NO_SPACE_AFTER = frozenset("( [ { $ ` - /".split())


def normalize(text):
    """NFC, straight quotes, lowercase: the form every token is taken from."""
    return unicodedata.normalize("NFC", text).translate(_QUOTES).lower()


def tokenize(text):
    """Split text into tokens by the rule in the module docstring."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize() needs a str, got {type(text).__name__}")
    return _TOKEN.findall(normalize(text))


def detokenize(tokens):
    """Join tokens into display text: spaces between tokens except around punctuation."""
    out = []
    prev = None
    for tok in tokens:
        if prev is not None and tok not in NO_SPACE_BEFORE and prev not in NO_SPACE_AFTER:
            out.append(" ")
        out.append(tok)
        prev = tok
    return "".join(out)


class Vocab:
    """Token <-> id mapping. Ids 0-3 are the specials; the rest are by frequency.

    Built deterministically (count descending, then token by code point) so the
    same corpus always yields the same ids, and ids baked into an exported model
    can be reproduced from the corpus alone.
    """

    PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
    SPECIALS = (PAD, UNK, BOS, EOS)
    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __init__(self, tokens):
        """`tokens`: the non-special tokens in id order (ids start at 4)."""
        self.itos = list(self.SPECIALS) + list(tokens)
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("vocabulary tokens must be unique and must not repeat the specials")

    @classmethod
    def build(cls, token_lists, max_size=10000):
        """Keep the max_size - 4 most frequent tokens (max_size counts the specials)."""
        if max_size < len(cls.SPECIALS):
            raise ValueError(f"max_size must be at least {len(cls.SPECIALS)}, got {max_size}")
        counts = Counter(tok for tokens in token_lists for tok in tokens)
        for special in cls.SPECIALS:
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls(tok for tok, _ in ranked[: max_size - len(cls.SPECIALS)])

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def encode(self, tokens):
        """Tokens -> ids; unknown tokens become <unk>. Adds no <s>/</s>: the model code does."""
        unk = self.unk_id
        return [self.stoi.get(tok, unk) for tok in tokens]

    def decode(self, ids):
        """Ids -> tokens, specials included (callers cut at </s>). Bad ids raise ValueError."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"token id {i} is outside the vocabulary (size {len(self.itos)})")
            out.append(self.itos[i])
        return out

    detokenize = staticmethod(detokenize)

    def to_json(self):
        """A JSON-serializable dict; web code reads `tokens` with ids starting after `specials`."""
        return {"specials": list(self.SPECIALS), "tokens": self.itos[len(self.SPECIALS):]}

    @classmethod
    def from_json(cls, data):
        """Inverse of to_json(); raises ValueError if the dict is not one of ours."""
        if not isinstance(data, dict) or "specials" not in data or "tokens" not in data:
            raise ValueError("vocabulary JSON must be an object with 'specials' and 'tokens'")
        if list(data["specials"]) != list(cls.SPECIALS):
            raise ValueError(f"vocabulary specials must be {list(cls.SPECIALS)}, got {data['specials']!r}")
        tokens = data["tokens"]
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise ValueError("vocabulary 'tokens' must be a list of strings")
        return cls(tokens)
