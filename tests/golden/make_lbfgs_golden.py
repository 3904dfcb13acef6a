#!/usr/bin/env python3
"""Writes tests/golden/lbfgs_golden.json: scikit-learn's optimum for logreg's L-BFGS golden test.

test_lbfgs_golden.cpp fits every case with logreg::LBFGS and requires the optimum that
sklearn.linear_model.LogisticRegression(solver="lbfgs") found here (multinomial, the default
for lbfgs with more than two classes):

* logreg minimizes  F(W, b) = sum_i s_i l_i / sum_i s_i + (l2 / 2) ||W||_F^2  (bias unpenalized),
* scikit-learn      sum_i s_i l_i + ||W||_F^2 / (2 C),
  the same minimizer when l2 = 1 / (C sum_i s_i); every case stores that l2.

Each case holds the inputs (X, y, sample weights or null, C, l2) and the reference: coef_
(classes x features), intercept_, and F at them computed here in float64 numpy. The bias is
defined only up to a common shift (F does not change when every b_k moves by the same amount);
the C++ test centres both bias vectors before comparing.

sklearn converged? Its L-BFGS-B also stops when its objective's relative decrease falls below
SciPy's ftol (2.2e-9, which LogisticRegression 1.2 does not let one change), long before the
gradient reaches tol = 1e-10: on these cases one fit stops after 12-13 iterations with a gradient
of F of ~3e-6 and ~3e-5 from the optimum in W, too far for the C++ test's 1e-5. So the fit is
repeated with warm_start=True (each refit starts from the last coef_ and intercept_ and runs
sklearn's L-BFGS-B again, usually for one iteration) until the gradient of F at sklearn's answer,
computed here in numpy, has max |entry| below REFIT_UNTIL = 1e-8, at most MAX_FITS times. The
script fails (exit 1) unless it ends below GRADIENT_LIMIT = 1e-7. It prints, per case, the fits,
the gradient after the first and the last fit, and the size of the Newton step from the final
answer (the exact Hessian of F, the bias-shift direction projected out): how far it is from the
exact optimum, to compare with the C++ test's tolerance of 1e-5 on W and b.

Usage:
  make_lbfgs_golden.py [--output FILE] [--compare COMMITTED]
With --compare the fresh output must match COMMITTED; exit 1 if not. The inputs (from Python's
own seeded PRNG, rounded to short decimals) must be identical. The reference outputs come out
byte-identical on the machine that wrote them, but another BLAS, NumPy or SciPy build rounds the
solver's path differently and so stops somewhere else within the Newton-step size printed (~1e-7
of the largest entry on the committed cases), not within the last bits. So coef_ and intercept_
must agree within 1e-6 of the largest |entry| of their case (the C++ test allows 1e-5), and the
objective, which is flat (quadratic) at the optimum, within 1e-12 relative. Exit 77 (a CTest
skip) when scikit-learn or NumPy cannot be imported.

Deterministic: inputs come from Python's own seeded PRNG (uniform and randrange, the same
numbers in every Python 3 version) rounded to short decimals, the BLAS runs on one thread, and
floats are written with repr, which round-trips exactly.
"""

import argparse
import json
import os
import random
import sys

SKIP = 77  # CTest's SKIP_RETURN_CODE for lbfgs_golden_fixture_is_current

SEED = 20240701
TOL = 1e-10  # LogisticRegression(tol=...): SciPy's gtol on the projected gradient of sklearn's objective
MAX_ITER = 10000
GRADIENT_LIMIT = 1e-7  # largest |entry| of dF at sklearn's answer for the case to count as converged
REFIT_UNTIL = 1e-8  # warm-started refits until the gradient of F is below this...
MAX_FITS = 100  # ...or this many fits

# Tolerances of --compare (see the docstring): inputs exact, the solution to where a converged
# L-BFGS-B run may stop, the objective tightly.
COMPARE_RTOL = {"coef": 1e-6, "intercept": 1e-6, "objective": 1e-12}

# name, samples, features, classes, C, sample weights?
CASES = [
    ("c0.5", 300, 4, 3, 0.5, False),
    ("c10", 240, 3, 4, 10.0, False),
    ("c2_sample_weights", 360, 4, 4, 2.0, True),
]


def rounded(rng, lo, hi, digits=3):
    # Short decimals keep the fixture small; the doubles they denote are exact inputs.
    return round(rng.uniform(lo, hi), digits)


def make_case(rng, n, features, classes, weighted):
    """Overlapping classes: centres in [-1, 1]^d, noise the sum of three uniforms on [-1, 1] (sd 1)."""
    centres = [[rounded(rng, -1.0, 1.0, 2) for _ in range(features)] for _ in range(classes)]
    y = [rng.randrange(classes) for _ in range(n)]
    x = []
    for label in y:
        x.append([round(centres[label][j] + sum(rng.uniform(-1.0, 1.0) for _ in range(3)), 3)
                  for j in range(features)])
    sw = [rng.randrange(1, 7) / 2 for _ in range(n)] if weighted else None  # 0.5, 1.0, ..., 3.0
    return x, y, sw


def objective_and_gradient(np, x, y, sw, l2, w, b):
    """F = sum_i s_i l_i / sum_i s_i + (l2 / 2) ||W||^2 and its gradient (dW, db), in float64."""
    z = x @ w.T + b
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
    losses = lse - z[np.arange(len(y)), y]
    p = np.exp(z - lse[:, None])
    p[np.arange(len(y)), y] -= 1.0  # dl_i/dz_i = softmax(z_i) - onehot(y_i)
    s = sw / sw.sum()
    f = float(s @ losses + 0.5 * l2 * np.sum(w * w))
    dw = (p * s[:, None]).T @ x + l2 * w
    db = (p * s[:, None]).sum(axis=0)
    return f, dw, db, p, s


def newton_step(np, x, y, sw, l2, w, b):
    """Largest |entry| of the Newton step -H^+ g at (W, b): the distance to the exact optimum."""
    _, dw, db, _, s = objective_and_gradient(np, x, y, sw, l2, w, b)
    k, d = w.shape
    z = x @ w.T + b
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    xa = np.hstack([x, np.ones((len(y), 1))])  # parameters ordered W (k x d) then b, per class [w_k, b_k]
    h = np.zeros((k * (d + 1), k * (d + 1)))
    for i in range(len(y)):
        hz = np.diag(p[i]) - np.outer(p[i], p[i])  # d2 l_i / dz_i^2
        h += s[i] * np.kron(hz, np.outer(xa[i], xa[i]))
    for c in range(k):
        for j in range(d):
            h[c * (d + 1) + j, c * (d + 1) + j] += l2
    g = np.hstack([dw, db[:, None]]).reshape(-1)
    # H is singular along the common bias shift only; pinv solves on the rest.
    step = -np.linalg.pinv(h, rcond=1e-12) @ g
    return float(np.abs(step).max())


def run_case(np, linear_model, name, n, features, classes, c_value, weighted, rng):
    x_list, y_list, sw_list = make_case(rng, n, features, classes, weighted)
    x = np.array(x_list, dtype=np.float64)
    y = np.array(y_list, dtype=np.int64)
    sw = np.ones(n) if sw_list is None else np.array(sw_list, dtype=np.float64)
    if sorted(set(y_list)) != list(range(classes)):
        raise RuntimeError(f"case {name}: not every class has a sample")
    l2 = 1.0 / (c_value * float(sw.sum()))
    model = linear_model.LogisticRegression(C=c_value, tol=TOL, max_iter=MAX_ITER, solver="lbfgs", warm_start=True)
    fits, iterations, first_grad = 0, 0, None
    while True:
        model.fit(x, y, sample_weight=None if sw_list is None else sw)
        fits += 1
        iterations += int(model.n_iter_[0])
        w = np.array(model.coef_, dtype=np.float64)
        b = np.array(model.intercept_, dtype=np.float64)
        f, dw, db, _, _ = objective_and_gradient(np, x, y, sw, l2, w, b)
        grad = float(max(np.abs(dw).max(), np.abs(db).max()))
        if first_grad is None:
            first_grad = grad
        if grad < REFIT_UNTIL or fits == MAX_FITS:
            break
    if list(model.classes_) != list(range(classes)) or model.coef_.shape != (classes, features):
        raise RuntimeError(f"case {name}: sklearn fitted a {model.coef_.shape} model for classes {model.classes_}")
    step = newton_step(np, x, y, sw, l2, w, b)
    train_accuracy = float((model.predict(x) == y).mean())
    print(f"case {name}: {fits} sklearn fits ({iterations} L-BFGS-B iterations), gradient of F max |entry| "
          f"{first_grad:.3e} after the first fit, {grad:.3e} after the last; Newton step max |entry| {step:.3e} "
          f"(max |W| {np.abs(w).max():.3f}); objective {f!r}; train accuracy {train_accuracy:.3f}")
    if not grad < GRADIENT_LIMIT:
        raise RuntimeError(f"case {name}: sklearn did not converge: after {fits} fits the gradient of the objective "
                           f"at its answer has max |entry| {grad:.3e} >= {GRADIENT_LIMIT:g}")
    if train_accuracy > 0.95:
        raise RuntimeError(f"case {name}: the classes are (nearly) separable (train accuracy {train_accuracy})")
    return {"name": name, "samples": n, "features": features, "classes": classes, "C": c_value, "l2": l2,
            "X": x_list, "y": y_list, "sample_weights": sw_list,
            "coef": w.tolist(), "intercept": b.tolist(), "objective": f}


def generate(np, linear_model):
    rng = random.Random(SEED)
    cases = [run_case(np, linear_model, *case, rng) for case in CASES]
    return {
        "about": "scikit-learn's LogisticRegression(solver='lbfgs') optimum, written by "
                 "tests/golden/make_lbfgs_golden.py; do not edit.",
        "minimized": "sum_i s_i l_i / sum_i s_i + (l2 / 2) ||W||_F^2, bias unpenalized; l2 = 1 / (C sum_i s_i)",
        "sklearn": {"class": "LogisticRegression", "solver": "lbfgs", "multi_class": "multinomial", "tol": TOL,
                    "max_iter": MAX_ITER, "warm_start": True, "refit_until_gradient_below": REFIT_UNTIL},
        "cases": cases,
    }


def dumps(value, indent=0):
    """JSON with numeric arrays on one line: small, diffable, floats by repr (exact round-trip)."""
    pad, inner = " " * indent, " " * (indent + 1)

    def flat(v):
        return not isinstance(v, (dict, list)) or (isinstance(v, list) and all(
            not isinstance(e, (dict, list)) or (isinstance(e, list) and all(not isinstance(f, (dict, list)) for f in e))
            for e in v))

    if flat(value):
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + dumps(v, indent + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def array_max(v):
    """The largest |number| in v (0 for anything else)."""
    if isinstance(v, list):
        return max((array_max(e) for e in v), default=0.0)
    return abs(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


def numbers_close(a, b, path, rtol, scale, errors):
    """a == b exactly, except that floats may differ by rtol * scale (scale: the array's largest |entry|)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            errors.append(f"{path}: keys differ: {sorted(a)} vs {sorted(b)}")
            return
        for k in a:
            tol = COMPARE_RTOL.get(k, rtol)
            numbers_close(a[k], b[k], f"{path}.{k}", tol, max(array_max(a[k]), array_max(b[k])) if k in COMPARE_RTOL
                          else scale, errors)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            errors.append(f"{path}: length {len(a)} vs {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            numbers_close(x, y, f"{path}[{i}]", rtol, scale, errors)
    elif isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool) and rtol > 0:
        if abs(a - b) > rtol * max(scale, 1e-300):
            errors.append(f"{path}: {a!r} vs {b!r} (allowed {rtol:g} x {scale:.3g})")
    elif a != b or type(a) != type(b):
        errors.append(f"{path}: {a!r} vs {b!r}")


def compare(fresh_text, committed_path):
    with open(committed_path, encoding="utf-8") as f:
        committed_text = f.read()
    if fresh_text == committed_text:
        print(f"lbfgs golden fixture is current (byte-identical): {committed_path}")
        return 0
    errors = []
    numbers_close(json.loads(fresh_text), json.loads(committed_text), "$", 0.0, 0.0, errors)
    if errors:
        print(f"lbfgs golden fixture is stale: {len(errors)} differences from a fresh run of make_lbfgs_golden.py",
              file=sys.stderr)
        for e in errors[:20]:
            print("  " + e, file=sys.stderr)
        print("regenerate with: /usr/bin/python3 tests/golden/make_lbfgs_golden.py", file=sys.stderr)
        return 1
    print(f"lbfgs golden fixture is current (inputs identical; coef_ and intercept_ within 1e-6, objective within "
          f"1e-12 relative; not byte-identical): {committed_path}")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(here, "lbfgs_golden.json"))
    parser.add_argument("--compare", metavar="COMMITTED", help="check that a fresh run matches this fixture")
    args = parser.parse_args()
    # One BLAS thread: no thread-count-dependent reductions (set before NumPy loads its BLAS).
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import numpy as np
        import sklearn
        from sklearn import linear_model
    except ImportError as e:
        print(f"skipped: scikit-learn is not importable by {sys.executable} ({e}); "
              "install python3-sklearn to regenerate or check the L-BFGS golden fixture")
        return SKIP
    try:
        text = dumps(generate(np, linear_model)) + "\n"
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {args.output} ({len(text)} bytes) with scikit-learn {sklearn.__version__}, NumPy {np.__version__}")
    if args.compare:
        return compare(text, args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
