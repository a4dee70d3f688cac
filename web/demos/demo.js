// Shared by the demo pages: points each <latent-explorer data-model="NAME"> at that bundle of
// this site (listed in ../models/index.json, written by `latent-explorer site`). If the site has
// no such bundle, the first image bundle stands in and a note says so. Resolves once every
// element is ready (or rejects with the first load error, which the element also shows).
import { NAME_PATTERN } from '../core/bundle.js';

export async function setUp() {
  const note = document.getElementById('note');
  const say = (text) => { note.textContent = text; note.hidden = false; };
  try {
    const response = await fetch('../models/index.json');
    if (!response.ok) throw new Error(`models/index.json: HTTP ${response.status}`);
    const index = await response.json();
    const models = (Array.isArray(index?.models) ? index.models : [])
      .filter((m) => typeof m?.name === 'string' && NAME_PATTERN.test(m.name) && m.manifest === `models/${m.name}/manifest.json`);
    const elements = [...document.querySelectorAll('latent-explorer[data-model]')];
    const missing = [];
    for (const x of elements) {
      let name = x.dataset.model;
      if (!models.some((m) => m.name === name)) {
        missing.push(name);
        name = models.find((m) => m.kind === 'image')?.name;
        if (!name) throw new Error('this site has no image bundle');
      }
      x.src = `../models/${name}/manifest.json`;
    }
    if (missing.length) say(`This demo is made for ${missing.join(' and ')}, which this site does not have; showing another bundle.`);
    await Promise.all(elements.map((x) => x.ready));
    return { elements, missing };
  } catch (e) {
    say(`Could not set up the demo: ${e.message}`);
    note.classList.add('error');
    throw e;
  }
}
