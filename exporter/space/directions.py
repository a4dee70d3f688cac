"""Concept directions in coordinate space, where they are made orthogonal, and what they do.

A direction is a unit (Z,) vector in the bundle's coordinates (`coords`, the latent rotated by
the PCA), so moving a point along it is `coords + alpha * v`, through the same decoder graph.
Every source here is rotation-equivariant (class means, L2-penalized linear models, ridge,
differences), so fitting in coords gives the same direction as fitting in z, rotated.

Sources: `class_mean` (Latent Space Cartography), `probe` (InterfaceGAN: the unit normal of a
linear classifier), `attribute` (ridge regression of a scalar on the codes), `edit` (the code of
an edited copy minus the code of the original) and any vector (`unit`). Orthogonalization:
`gram_schmidt` in the user's order, and InterfaceGAN's `conditional` (one direction made
orthogonal to several others, which stay as they are). `effects` measures what a direction does.
"""
import numpy as np

from ..errors import ArgumentError

MIN_RESIDUAL = 1e-3  # what is left of a unit vector after removing others; below this it is parallel to them


def unit(v, what="vector"):
    """v / |v|, or ArgumentError for a non-finite or (near) zero vector."""
    v = np.asarray(v, dtype=np.float64).ravel()
    norm = np.linalg.norm(v)
    if not np.isfinite(v).all():
        raise ArgumentError(f"{what}: has NaN or infinite values")
    if norm < 1e-12:
        raise ArgumentError(f"{what}: is zero, so it has no direction")
    return v / norm


def class_mean(codes, labels, a, b=None):
    """Unit vector from the mean code of the rest (or of class b) to the mean code of class a."""
    labels = np.asarray(labels)
    other = labels != a if b is None else labels == b
    for cls, mask in ((a, labels == a), ("the rest" if b is None else b, other)):
        if not mask.any():
            raise ArgumentError(f"class-mean: no training examples of class {cls}")
    return unit(codes[labels == a].mean(0) - codes[other].mean(0), f"class-mean {a} vs {b}")


def probe(codes, labels, a, b=None, model="logistic", seed=0):
    """InterfaceGAN's boundary: the unit normal of a linear classifier separating class a from
    class b (or from the rest), pointing towards a; also its training accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC
    labels = np.asarray(labels)
    keep = np.ones(len(labels), bool) if b is None else (labels == a) | (labels == b)
    y = labels[keep] == a
    if y.all() or not y.any():
        raise ArgumentError(f"probe: needs examples of class {a} and of {'the rest' if b is None else b}")
    clf = (LogisticRegression(max_iter=2000, class_weight="balanced") if model == "logistic" else
           LinearSVC(class_weight="balanced", random_state=seed, max_iter=20000))
    clf.fit(codes[keep], y)
    return unit(clf.coef_[0], f"probe {a}"), float(clf.score(codes[keep], y))


def check_values(values, n, what):
    """A finite, non-constant (n,) float64 array, or ArgumentError naming `what`."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ArgumentError(f"{what}: values of shape {values.shape}; give one value per training example")
    if len(values) != n:
        raise ArgumentError(f"{what}: {len(values)} values for {n} training examples; give one value per "
                            "training example")
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise ArgumentError(f"{what}: value {bad[0]} is {values[bad[0]]} ({len(bad)} non-finite values); "
                            "every value must be a finite number")
    if np.ptp(values) == 0:
        raise ArgumentError(f"{what}: is constant ({values[0]:g}) over the {n} examples, so it defines no direction")
    return values


def attribute(codes, values, alpha=1.0, what="attribute"):
    """The direction of a ridge regression of `values` (N,) on `codes` (N, Z): unit coef, and
    the regression's R² on the same examples."""
    from sklearn.linear_model import Ridge
    values = check_values(values, len(codes), what)
    reg = Ridge(alpha=alpha).fit(codes, values)
    return unit(reg.coef_, what), float(reg.score(codes, values))


def edit(before, after):
    """The seed's edit direction: code(after) - code(before), averaged over rows if several.
    Not normalized: its length is the size of the edit."""
    before, after = np.atleast_2d(before).astype(np.float64), np.atleast_2d(after).astype(np.float64)
    if before.shape != after.shape:
        raise ArgumentError(f"edit: before {before.shape} and after {after.shape} differ in shape")
    return (after - before).mean(0)


def _remove(v, basis, what, others):
    """v minus its projection on the span of `basis` (rows), renormalized; ArgumentError if
    (almost) nothing is left, i.e. v is parallel to them."""
    basis = np.atleast_2d(basis)
    coef, *_ = np.linalg.lstsq(basis.T, v, rcond=None)
    rest = v - basis.T @ coef
    if np.linalg.norm(rest) < MIN_RESIDUAL:
        cos = max(abs(float(v @ b)) for b in basis)
        raise ArgumentError(f"{what}: is parallel to {', '.join(others)} (|cos| = {cos:.6f}); nothing is left "
                            "after making it orthogonal")
    return rest / np.linalg.norm(rest)


def gram_schmidt(vectors, names):
    """Orthonormalize unit `vectors` in the order given: each becomes orthogonal to all before it."""
    out = []
    for i, v in enumerate(vectors):
        out.append(unit(v, names[i]) if i == 0 else _remove(unit(v, names[i]), np.array(out), names[i], names[:i]))
    return out


def conditional(primal, conditions, name="direction", condition_names=()):
    """InterfaceGAN's conditional manipulation for several conditions: `primal` projected onto the
    orthogonal complement of the conditions' span (the conditions themselves are unchanged)."""
    return _remove(unit(primal, name), np.array([unit(c) for c in conditions]), name,
                   list(condition_names) or ["the conditions"])


def cosines(vectors):
    """(D, D) cosine similarities of unit vectors."""
    v = np.array(vectors, dtype=np.float64)
    return np.clip(v @ v.T, -1.0, 1.0)


def spread(codes, v):
    """σ: standard deviation of the codes along the unit vector v."""
    return float(np.std(np.asarray(codes, dtype=np.float64) @ v))


def effects(decode, measure, coords, v, step):
    """What moving `coords` (n, Z) from -step to +step along v does to each attribute: {name:
    (mean change, its standard error)} in the attribute's units. `decode` maps coords to images,
    `measure` images to {name: (n,)}."""
    lo, hi = measure(decode(coords - step * v)), measure(decode(coords + step * v))
    return {k: (float(np.mean(hi[k] - lo[k])), float(np.std(hi[k] - lo[k]) / np.sqrt(len(coords)))) for k in hi}


def component_use(decode, coords, std, sigma=2.0):
    """How much the decoder uses each coordinate: mean |pixel change| between coords moved by
    -sigma·std_i and +sigma·std_i along component i. (Z,)"""
    use = []
    for i, s in enumerate(std):
        e = np.zeros(len(std))
        e[i] = sigma * s
        use.append(float(np.abs(decode(coords + e) - decode(coords - e)).mean()))
    return np.array(use)


def ridge_map(codes_a, codes_b, alpha=1.0):
    """A linear map (ridge, with intercept) from model A's codes (N, Za) to model B's (N, Zb)."""
    from sklearn.linear_model import Ridge
    return Ridge(alpha=alpha).fit(codes_a, codes_b)


def transfer(mapping, v):
    """A's direction v carried to B by the linear part of the map: unit(W v)."""
    return unit(mapping.coef_ @ v, "transferred direction")
