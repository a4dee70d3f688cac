// The one seam between text and token ids. Everything else (the sentence box, encode(),
// the decoders) sees only this object, so swapping the word tokenizer for a subword one
// changes this file and nothing else:
//
//   tokenizer.encode(text)  -> ids (no <s>, no </s>; unknown pieces become <unk>)
//   tokenizer.decode(ids)   -> display text
//   tokenizer.split(text)   -> the pieces `encode` maps one to one (to say which words were unknown)
//   tokenizer.token(id)     -> the piece an id stands for (to show <unk> distinctly)
//
// Today: the word rule of core/words.js with the vocabulary of the bundle's `text.tokenizer`
// file ({"specials": [...], "tokens": [...]}, id = index), the same ids as Python's
// Vocab.encode(tokenize(text)). No DOM.
import { checks, fileOf, LIMITS, validate } from './bundle.js';
import { detokenize, tokenize } from './words.js';

/**
 * A tokenizer from the (parsed) file at `url`, checked against its (checked) manifest: strings
 * only, every special id inside it. Throws Error("vocab.json: …") naming the file.
 */
export function createTokenizer(json, manifest, url, manifestUrl) {
  const file = fileOf(url);
  const { list, string } = checks;
  validate(json, { specials: list(string, { min: 1, max: LIMITS.vocab }), tokens: list(string, { max: LIMITS.vocab }) }, file);
  const itos = json.specials.concat(json.tokens);
  for (const [key, id] of Object.entries(manifest.text.specials)) {
    if (id >= itos.length) throw new Error(`${fileOf(manifestUrl)}: text.specials.${key} is ${id}, but ${file} has ${itos.length} entries`);
  }
  const stoi = new Map(itos.map((tok, i) => [tok, i])); // a repeated token: the last id, as Python's dict
  const { unk } = manifest.text.specials;
  return {
    size: itos.length,
    specials: { ...manifest.text.specials },
    split: (text) => tokenize(text),
    encode: (text) => tokenize(text).map((tok) => stoi.get(tok) ?? unk),
    token: (id) => itos[id],
    decode: (ids) => detokenize(ids.map((id) => itos[id])),
  };
}
