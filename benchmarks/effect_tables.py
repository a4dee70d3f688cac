"""Print a bundle's recorded directions as Markdown tables (the README's effect tables):
python benchmarks/effect_tables.py models/fashion-mnist [models/fashion-mnist-small ...]"""
import sys

from exporter.bundle import read_manifest


def table(folder):
    m = read_manifest(folder)
    d = m.directions
    if d is None:
        return f"{folder}: no directions"
    lines = [f"`{folder}`: {d.n_examples} examples moved from -{d.sigma:g}σ to +{d.sigma:g}σ, change in attribute "
             f"standard deviations (± standard error); fitted on {d.fit['n_examples']} examples of "
             f"{d.fit['dataset']}" + (f", classes {d.fit['classes']}" if d.fit.get("classes") else ""), "",
             "| direction | " + " | ".join(d.attributes) + " |", "| --- |" + " --- |" * len(d.attributes)]
    for i in d.items:
        rows = [(i.name, i.effect, i.effect_se)]
        if i.orthogonal_to:
            rows = [(f"{i.name}, raw", i.effect_raw, i.effect_raw_se),
                    (f"{i.name} ⟂ {', '.join(i.orthogonal_to)}", i.effect, i.effect_se)]
        for name, eff, se in rows:
            lines.append(f"| {name} | " + " | ".join(f"{e:+.2f} ± {s:.2f}" for e, s in zip(eff, se)) + " |")
    names = [i.name for i in d.items]
    if len(names) > 1:
        lines += ["", "cosines raw → final: " + ", ".join(
            f"{names[a]}·{names[b]} {d.cosine_raw[a][b]:+.3f} → {d.cosine[a][b]:+.3f}"
            for a in range(len(names)) for b in range(a + 1, len(names)))]
    for i in d.items:
        if i.source["kind"] == "transfer":
            lines.append(f"\n{i.name}: map R² {i.source['map_r2_heldout']:.3f} on {i.source['n_heldout']} held-out images")
            break
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(table(f) for f in sys.argv[1:]))
