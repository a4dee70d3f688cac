// Shows a decoded sentence. Model output is data: every token goes in with textContent,
// never as HTML, so a vocabulary holding "<img src=x onerror=...>" shows that text literally.

/**
 * The gaps between tokens as the tokenizer's own display text has them ("near the station."),
 * read off `text` when it is the tokens joined by nothing or one space; else one space each.
 */
function gaps(tokens, text) {
  const out = [];
  let at = 0;
  for (const [i, tok] of tokens.entries()) {
    const space = text[at] === ' ' && i > 0;
    if (!text.startsWith(tok, at + space)) return tokens.map((_, j) => (j > 0 ? ' ' : ''));
    out.push(space ? ' ' : '');
    at += space + tok.length;
  }
  return at === text.length ? out : tokens.map((_, j) => (j > 0 ? ' ' : ''));
}

function sentence(result, className) {
  const p = document.createElement('p');
  p.className = className;
  const spaces = gaps(result.tokens, result.text);
  result.tokens.forEach((tok, i) => {
    if (spaces[i]) p.append(spaces[i]);
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
    .sentence { font-size: 20px; min-height: 2.8em; width: 32em; max-width: 100%; box-sizing: border-box; margin: 0;
                padding: 12px; background: #f4f4f4; border-radius: 4px; }
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
