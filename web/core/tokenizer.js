// The one seam between text and token ids. Everything else (the sentence box, encode(), the
// decoders) sees only this object:
//
//   tokenizer.encode(text)  -> ids (no <s>, no </s>; byte-level BPE: every string encodes)
//   tokenizer.decode(ids)   -> display text (the bytes the ids stand for, spaces at either end removed)
//   tokenizer.token(id)     -> the vocabulary entry of an id (a byte-level string such as 'Ġthe')
//
// It loads the bundle's `text.tokenizer` file (tokenizer.json, written by Python's `tokenizers`
// library: exporter/tokenizers/bpe.py) with @huggingface/tokenizers, the same file and the same
// normalization (it is inside tokenizer.json) on both sides; tests/test_tokenizer.py checks that
// ids and text agree. The library's ESM build is self-hosted in `tokenizers/` beside `core/`
// (copied by `latent-explorer site`/`embed`, carried by the wheel): no CDN. No DOM.
import { fileOf, LIMITS } from './bundle.js';

let libPromise = null;
let libUrl = null;

/**
 * Where @huggingface/tokenizers comes from when it cannot be found beside this module: the
 * notebook widget (web/notebook.js) links these modules from blob: URLs, where nothing resolves
 * relative to them, so it hands over the library as a blob: URL. Call before anything loads.
 */
export function configureTokenizers(moduleUrl) {
  if (libPromise) throw new Error('configureTokenizers(): the tokenizer library is already loading');
  libUrl = moduleUrl;
}

/** The @huggingface/tokenizers module (memoized). Resolved when needed: under blob: there is no folder. */
export function loadTokenizers() {
  libPromise ??= import(libUrl ?? new URL('../tokenizers/tokenizers.min.mjs', import.meta.url).href);
  return libPromise;
}

/**
 * A tokenizer from the (parsed) tokenizer.json at `url`, checked against its (checked) manifest:
 * a byte-level BPE model, every special id inside its vocabulary. Throws Error("tokenizer.json: …").
 */
export async function createTokenizer(json, manifest, url, manifestUrl) {
  const file = fileOf(url);
  const model = json?.model;
  if (model === null || typeof model !== 'object' || model.type !== 'BPE') {
    throw new Error(`${file}: model.type must be "BPE" (a byte-level BPE tokenizer.json), got ${JSON.stringify(model?.type)}`);
  }
  const vocab = model.vocab;
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab) || Object.keys(vocab).length > LIMITS.vocab
      || !Object.values(vocab).every((id) => Number.isInteger(id) && id >= 0)) {
    throw new Error(`${file}: model.vocab must be an object of token -> id, at most ${LIMITS.vocab} entries`);
  }
  const { Tokenizer } = await loadTokenizers();
  let tok;
  try {
    tok = new Tokenizer(json, {}); // the config argument is required, even empty
  } catch (e) {
    throw new Error(`${file}: not a tokenizer this page can read (${e.message})`);
  }
  const size = tok.get_vocab().size;
  for (const [key, id] of Object.entries(manifest.text.specials)) {
    if (id >= size) throw new Error(`${fileOf(manifestUrl)}: text.specials.${key} is ${id}, but ${file} has ${size} entries`);
  }
  return {
    size,
    specials: { ...manifest.text.specials },
    encode: (text) => {
      if (typeof text !== 'string') throw new TypeError(`a sentence must be a string, got ${typeof text}`);
      return tok.encode(text, { add_special_tokens: false }).ids;
    },
    token: (id) => tok.id_to_token(id),
    // as Python's SentenceTokenizer.decode: no clean-up of spaces, the prefix space removed
    decode: (ids) => (ids.length === 0 ? '' : tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })
      .replace(/^ +| +$/g, '')),
  };
}
