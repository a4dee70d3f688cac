"""Sentence corpora for the VAE: a plain one-sentence-per-line file, or WordNet examples.

Readers fail early with a DataError naming the file, so a bad corpus is reported
before any training time is spent. prepare() turns sentences into deduplicated
normalized strings and a train/valid/test split that depends only on the set of
sentences and the seed, not on their order, so runs are reproducible.
"""

import random
import re
from collections import namedtuple
from pathlib import Path

from exporter.errors import DataError

WORDNET_FOLDER = "/usr/share/wordnet"
WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
_QUOTED = re.compile(r'"([^"]*)"')

Split = namedtuple("Split", ["train", "valid", "test"])


def read_sentence_file(path):
    """Sentences from a UTF-8 text file, one per line, stripped; blank lines skipped."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file not found")
    if path.is_dir():
        raise DataError(path, "is a folder, expected a text file with one sentence per line")
    data = path.read_bytes()
    if not data:
        raise DataError(path, "empty file, expected one sentence per line")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataError(path, f"binary file (NUL byte at offset {nul}), expected UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(path, f"not valid UTF-8 (byte offset {err.start})") from None
    # Split on newlines only: str.splitlines() would also split on U+2028, U+0085 etc.
    sentences = [line.strip() for line in text.removeprefix("\ufeff").split("\n")]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise DataError(path, "no sentences, only blank lines")
    return sentences


def read_wordnet(folder=WORDNET_FOLDER):
    """Example sentences of all WordNet synsets, in file order (duplicates kept).

    Each synset line in data.{noun,verb,adj,adv} ends with `| gloss`; the examples
    are the double-quoted strings in the gloss ("; "-separated). Quotes are paired
    left to right, so the handful of glosses with an unbalanced quote lose at most
    their last example. Lines starting with two spaces are the license header.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "WordNet folder not found (Debian package: wordnet-base)")
    examples = []
    for name in WORDNET_FILES:
        path = folder / name
        if not path.is_file():
            raise DataError(path, "WordNet data file not found")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise DataError(path, f"not valid UTF-8 (byte offset {err.start})") from None
        for line in text.split("\n"):
            if line.startswith("  "):
                continue
            _, bar, gloss = line.partition(" | ")
            if bar:
                examples.extend(q.strip() for q in _QUOTED.findall(gloss) if q.strip())
    if not examples:
        raise DataError(folder, "no example sentences found in the WordNet data files")
    return examples


def prepare(sentences, normalize, seed=0, fractions=(0.9, 0.05, 0.05), source="<sentences>"):
    """Normalize, dedupe and split deterministically: a Split of lists of normalized strings.

    Sentences that normalize to the same string count once; empty ones are dropped. The
    survivors are sorted, then shuffled with random.Random(seed), so the split ignores input
    order. (Sentences too long for the model are dropped after tokenization, per part.)
    `source` names the corpus in the DataError raised when nothing usable remains.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions!r}")
    unique = {normalize(s) for s in sentences} - {""}
    if not unique:
        raise DataError(source, "no usable sentence (all empty)")
    ordered = sorted(unique)
    random.Random(seed).shuffle(ordered)
    n_train = round(len(ordered) * fractions[0])
    n_valid = round(len(ordered) * fractions[1])
    return Split(ordered[:n_train], ordered[n_train:n_train + n_valid], ordered[n_train + n_valid:])
