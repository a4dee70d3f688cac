// The word rule: the JS twin of exporter/tokenizers/words.py, whose docstring is the
// specification. core/tokenizer.js puts it behind the tokenizer seam. Both must give identical tokens, or the browser would feed the
// decoder ids it was never trained on; tests/test_tokenizer.py checks parity.
//
//   tokenize("Don't panic!")        -> ["don't", "panic", "!"]
//   tokenize("'tis 3.14, or 1,000") -> ["'", "tis", "3.14", ",", "or", "1,000"]
//   detokenize(["well", "-", "known", "."]) -> "well-known."

// A word is letters/digits ([\p{L}\p{N}] = Python's [^\W_]) joined by an apostrophe,
// or by '.' / ',' between two ASCII digits; any other non-space character is its own
// token. The whitespace set is spelled out because JS \s and Python \s differ.
const TOKEN =
  /[\p{L}\p{N}]+(?:(?:'|(?<=[0-9])[.,](?=[0-9]))[\p{L}\p{N}]+)*|[^\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/gu;

const NO_SPACE_BEFORE = new Set([".", ",", "!", "?", ";", ":", ")", "]", "}", "%", "'", "-", "/"]);
const NO_SPACE_AFTER = new Set(["(", "[", "{", "$", "`", "-", "/"]);

/** NFC, straight quotes, lowercase: the form every token is taken from. */
export function normalize(text) {
  return text
    .normalize("NFC")
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .toLowerCase();
}

/** Split text into tokens (see exporter/tokenizers/words.py for the rule). */
export function tokenize(text) {
  if (typeof text !== "string") {
    throw new TypeError(`tokenize() needs a string, got ${typeof text}`);
  }
  return normalize(text).match(TOKEN) ?? [];
}

/** Join tokens into display text: spaces between tokens except around punctuation. */
export function detokenize(tokens) {
  let out = "";
  let prev = null;
  for (const tok of tokens) {
    if (prev !== null && !NO_SPACE_BEFORE.has(tok) && !NO_SPACE_AFTER.has(prev)) out += " ";
    out += tok;
    prev = tok;
  }
  return out;
}
