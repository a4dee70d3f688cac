// Small DOM helpers shared by the element's views, inputs and panels. Text always goes in as
// textContent, never as HTML: manifest content and model output are data.
export function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** How a real example is named in pickers: its sentence, or its class and index. */
export function anchorLabel(manifest, anchor) {
  if (typeof anchor.text === 'string') return anchor.text.length > 70 ? `${anchor.text.slice(0, 69)}…` : anchor.text;
  const name = anchor.label == null ? 'example' : (manifest.dataset?.label_names?.[anchor.label] ?? String(anchor.label));
  return anchor.index === undefined ? name : `${name} (#${anchor.index})`;
}

/**
 * Assign only the properties of `props` that differ from `node`'s: a move of the point rewrites
 * panels many times a second, and an unchanged write still costs the page a style and layout pass.
 */
export function update(node, props) {
  for (const [key, value] of Object.entries(props)) if (node[key] !== value) node[key] = value;
  return node;
}

/** Set `node`'s text, changing its one text node in place when it has one (no new node to style and lay out). */
export function setText(node, text) {
  const t = node.firstChild;
  if (t && t === node.lastChild && t.nodeType === Node.TEXT_NODE) {
    if (t.data !== text) t.data = text;
  } else if (node.textContent !== text) {
    node.textContent = text;
  }
}

/**
 * 12,345: as toLocaleString('en') writes it, without its cost (the page's first toLocaleString
 * loads the number formats, about 40 ms here, while the element builds its UI).
 */
export const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
