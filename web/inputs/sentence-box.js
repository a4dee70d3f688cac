// The sentence box (text bundles with graphs.encoder): type a sentence, press Enter, and the
// point moves to what the encoder makes of it; the decoded sentence is then the model's own
// reconstruction. Tokenized in JS through core/tokenizer.js (byte-level BPE, the same ids as
// Python: any script encodes), </s> appended, padded to max_len. A note under the box says what
// the model could not read: anything past max_len - 1 tokens (cut off), or that there was
// nothing to read (empty, or only whitespace). Never an exception.
import { el } from '../dom.js';

export const style = `
  .sentence-box { display: grid; gap: 4px; width: 32em; max-width: 100%; }
  .sentence-box form { display: flex; gap: 8px; flex-wrap: wrap; }
  .sentence-box input { flex: 1 1 14em; min-width: 0; font: inherit; padding: 4px 6px; }
`;

const quote = (s) => `“${s.length > 80 ? `${s.slice(0, 79)}…` : s}”`;

export function sentenceBox(ctx) {
  const { tokenizer, encoder, manifest } = ctx.model;
  const room = manifest.text.max_len - 1; // words the encoder reads before its </s>
  const input = el('input', { type: 'text', id: 'sentence', autocomplete: 'off', spellcheck: false,
    placeholder: 'Type a sentence and press Enter' });
  const note = el('p', { className: 'note', role: 'status', hidden: true });
  const say = (text, error = false) => { note.textContent = text; note.hidden = !text; note.classList.toggle('error', error); };

  let busy = null;
  async function submit() {
    const text = input.value;
    if (text.trim() === '') return say('Type a sentence first, then press Enter.', true);
    try {
      const ids = tokenizer.encode(text);
      if (ids.length === 0) return say('Type a sentence first, then press Enter (that was only whitespace).', true);
      // SentenceEncoder.encode: [ids] -> coords Float32Array [1 * Z] and the ids it read (at most max_len - 1)
      const { coords, kept } = await encoder.encode([ids]);
      if (ctx.signal.aborted) return undefined;
      const [read] = kept;
      const truncated = read.length < ids.length;
      say(truncated ? `Your sentence has ${ids.length} tokens; the model reads at most ${room}, so it was cut after `
        + `${quote(tokenizer.decode(read))}.` : '');
      ctx.move(Array.from(coords), 'sentence', { text, ids: read, truncated });
    } catch (e) {
      say(`Could not encode that sentence: ${e.message}`, true);
    }
    return undefined;
  }
  const form = el('form', {}, [
    el('label', { htmlFor: 'sentence', className: 'visually-hidden', textContent: 'your sentence' }),
    input,
    el('button', { type: 'submit', textContent: 'Encode' }),
  ]);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy = (busy ?? Promise.resolve()).then(submit); // one at a time, in order
  });
  return el('div', { className: 'sentence-box', part: 'sentence-box' }, [form, note]);
}
