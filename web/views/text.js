// Shows a decoded sentence. Model output is data: the text goes in with textContent only, never
// as HTML, so a sentence reading "<img src=x onerror=...>" shows that text literally. The text is
// the tokenizer's decode of the ids (byte-level BPE has no unknown token, so nothing is marked).

function sentence(result, className) {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = result.text === '' ? '(empty sentence)' : result.text;
  p.title = result.text;
  return p;
}

export class TextView {
  static style = `
    .sentence { font-size: 20px; min-height: 2.8em; width: 32em; max-width: 100%; box-sizing: border-box; margin: 0;
                padding: 12px; background: #f4f4f4; border-radius: 4px; overflow-wrap: anywhere; }
  `;

  constructor() {
    this.element = sentence({ text: '' }, 'sentence');
    this.element.setAttribute('aria-live', 'polite');
  }

  show(result) {
    this.element.textContent = result.text === '' ? '(empty sentence)' : result.text;
    this.element.title = result.text;
  }

  /** Decode `point` and show its sentence; resolves to when the text was set, on the page's clock. */
  async render(model, point) {
    this.show((await model.decode([point]))[0]);
    return performance.now();
  }

  /** The sentence shown now. */
  async snapshot() {
    return this.element.title;
  }

  /** The bundle's poster (manifest.poster: the text its first point decodes to), shown until the live decode. */
  poster({ text }) {
    this.show({ text });
  }

  /** A compact rendering for a row of the interpolation table. */
  thumbnail(result) {
    return sentence(result, 'row-sentence');
  }
}
