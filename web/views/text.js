// Shows a decoded sentence. Model output is data: every token goes in with textContent,
// never as HTML, so a vocabulary holding "<img src=x onerror=...>" shows that text literally.
function sentence(result, className) {
  const p = document.createElement('p');
  p.className = className;
  result.tokens.forEach((tok, i) => {
    if (i > 0) p.append(' ');
    const span = document.createElement('span');
    span.textContent = tok;
    if (tok === '<unk>') span.className = 'unk'; // shown distinctly: a word outside the vocabulary
    p.append(span);
  });
  if (result.tokens.length === 0) p.textContent = '(empty sentence)';
  p.title = result.text;
  return p;
}

export class TextView {
  static style = `
    .sentence { font-size: 20px; min-height: 2.8em; width: min(32em, 90vw); margin: 0; padding: 12px;
                background: #f4f4f4; border-radius: 4px; }
    .unk { color: #8a4b00; background: #ffe9c7; border-radius: 3px; padding: 0 2px; font-size: 0.85em; }
  `;

  constructor() {
    this.element = sentence({ tokens: [], text: '' }, 'sentence');
    this.element.setAttribute('aria-live', 'polite');
  }

  show(result) {
    const next = sentence(result, 'sentence');
    this.element.replaceChildren(...next.childNodes);
    this.element.title = result.text;
  }

  /** A compact rendering for a row of the interpolation table. */
  thumbnail(result) {
    return sentence(result, 'row-sentence');
  }
}
