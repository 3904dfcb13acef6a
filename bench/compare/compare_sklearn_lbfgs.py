#!/usr/bin/env python3
"""Times scikit-learn's LogisticRegression(solver="lbfgs") against mnist_train --optimizer lbfgs on MNIST.

Both minimize the same objective from the same start (zeros): mean cross-entropy over the 60000
training images (pixels / 255) + (l2 / 2) ||W||^2 with l2 = 1 / (C * 60000), the bias unpenalized
(docs/math.md). scikit-learn runs with its defaults (C = 1, max_iter = 100, tol = 1e-4, float64,
its BLAS's default threads); mnist_train runs the same 100 iterations (its --tol is set to
scikit-learn's tol / 60000, the same test on the mean objective) on --threads threads, float32.
Both final objectives are evaluated here, in float64 and by the same function. Each side runs
--repeat times (default 3); the seconds are medians.
Prints a Markdown table and the time mnist_train needed to reach scikit-learn's final objective
(from its per-iteration history; rerun with up to 10x the iterations if 100 were not enough).

  /usr/bin/python3 bench/compare/compare_sklearn_lbfgs.py --mnist-train build/examples/mnist_train --threads 1

Exits 77 (CTest's skip code) when scikit-learn or the MNIST files are missing.
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings

from compare_pytorch import find, load_idx

SKIP = 77


def load(folder, stem, np):
    path = find(folder, stem)
    if path is None:
        print(f"compare_sklearn_lbfgs: skipped: {stem} not found in {folder}")
        sys.exit(SKIP)
    data, dims = load_idx(path)
    return np.frombuffer(data, dtype=np.uint8).reshape(dims[0], -1)


def objective(np, W, b, X, y, l2):
    """Mean cross-entropy + (l2 / 2) ||W||^2, in float64."""
    z = X @ W.T + b
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean() + 0.5 * l2 * (W * W).sum())


def read_safetensors(path, np):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "F64": np.float64}[t["dtype"]]
        lo, hi = t["data_offsets"]
        out[name] = np.frombuffer(body[lo:hi], dtype=dtype).reshape(t["shape"]).astype(np.float64)
    return out


def blas():
    try:
        from threadpoolctl import threadpool_info
        return ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                         for i in threadpool_info() if i.get("user_api") == "blas") or "unknown"
    except ImportError:
        return "unknown"


def run_logreg(args, max_iter, tol):
    with tempfile.TemporaryDirectory() as tmp:
        metrics, model = os.path.join(tmp, "metrics.json"), os.path.join(tmp, "model.safetensors")
        cmd = [args.mnist_train, "--data", args.data, "--quiet", "--optimizer", "lbfgs", "--l2", repr(args.l2),
               "--tol", repr(tol), "--max-iter", str(max_iter), "--threads", str(args.threads), "--init", "zeros",
               "--normalize", "unit", "--metrics-json", metrics, "--save", model]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"compare_sklearn_lbfgs: mnist_train failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        with open(metrics) as f:
            m = json.load(f)
        import numpy as np
        params = read_safetensors(model, np)
    return m, params, wall, cmd, p.stdout.strip().splitlines()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist-train", required=True, help="path to the mnist_train program")
    ap.add_argument("--data", default=os.environ.get("LOGREG_MNIST_DIR") or os.environ.get("LOGREG_MNIST_FALLBACK_DIR", ""),
                    help="MNIST folder (default: $LOGREG_MNIST_DIR, then $LOGREG_MNIST_FALLBACK_DIR)")
    ap.add_argument("--threads", type=int, default=1, help="mnist_train --threads")
    ap.add_argument("--C", type=float, default=1.0, help="scikit-learn's C (l2 = 1 / (C * n_samples))")
    ap.add_argument("--max-iter", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; seconds are medians")
    args = ap.parse_args()
    try:
        import numpy as np
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        import sklearn
    except ImportError as e:
        print(f"compare_sklearn_lbfgs: skipped: {e} (Debian: apt-get install python3-sklearn)")
        sys.exit(SKIP)

    X = load(args.data, "train-images-idx3-ubyte", np).astype(np.float64) / 255.0
    y = load(args.data, "train-labels-idx1-ubyte", np).ravel().astype(np.int64)
    Xt = load(args.data, "t10k-images-idx3-ubyte", np).astype(np.float64) / 255.0
    yt = load(args.data, "t10k-labels-idx1-ubyte", np).ravel().astype(np.int64)
    n = X.shape[0]
    args.l2 = 1.0 / (args.C * n)

    sk_times = []
    for _ in range(args.repeat):
        clf = LogisticRegression(C=args.C, max_iter=args.max_iter)  # lbfgs, multinomial, tol 1e-4
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = time.perf_counter()
            clf.fit(X, y)
            sk_times.append(time.perf_counter() - t0)
    sk_seconds = statistics.median(sk_times)
    sk_obj = objective(np, clf.coef_, clf.intercept_, X, y, args.l2)
    sk_acc = float((clf.predict(Xt) == yt).mean())

    # scikit-learn 1.2 minimizes sum(loss) + ||W||^2 / (2C) with gtol = tol; the same test on the
    # mean objective is tol / n.
    tol = clf.tol / n
    runs = [run_logreg(args, args.max_iter, tol) for _ in range(args.repeat)]
    m, params, wall, cmd, build = runs[0]
    lr_obj = objective(np, params["weight"], params["bias"], X, y, args.l2)
    lr_seconds = statistics.median(r[0]["train_seconds"] for r in runs)

    def reach_seconds(metrics_list):
        hits = [next((h for h in mm["solver"]["iterations"] if h["objective"] <= sk_obj), None) for mm in metrics_list]
        if any(h is None for h in hits):
            return None
        return hits[0]["iteration"], statistics.median(h["elapsed_seconds"] for h in hits)

    reached = reach_seconds([r[0] for r in runs])
    extra = ""
    if reached is None:  # run on until scikit-learn's objective is reached (or 10x the iterations)
        reached = reach_seconds([run_logreg(args, 10 * args.max_iter, tol)[0] for _ in range(args.repeat)])
        extra = " (runs with more iterations)"

    print(f"MNIST, C = {args.C} (l2 = {args.l2:.6g}), {args.max_iter} iterations, start at zeros\n")
    print(f"scikit-learn {sklearn.__version__}, BLAS: {blas()}")
    print(f"mnist_train: {build}; command: {' '.join(cmd)}\n")
    print("| solver | threads | iterations | seconds | final objective (float64) | test accuracy |")
    print("|---|---|---|---|---|---|")
    print(f"| scikit-learn lbfgs | BLAS default | {clf.n_iter_[0]} | {sk_seconds:.2f} | {sk_obj:.8f} | {sk_acc:.4f} |")
    print(f"| logreg lbfgs | {args.threads} | {m['solver']['iterations'][-1]['iteration']} | {lr_seconds:.2f} | "
          f"{lr_obj:.8f} | {m['test_accuracy']:.4f} |")
    print(f"\nseconds of each run: scikit-learn {', '.join(f'{t:.2f}' for t in sk_times)}; "
          f"logreg {', '.join('%.2f' % r[0]['train_seconds'] for r in runs)}")
    print(f"\nspeed-up for the same iterations: {sk_seconds / lr_seconds:.1f}x; "
          f"objective difference (logreg - scikit-learn): {lr_obj - sk_obj:+.3g}")
    if reached is not None:
        print(f"logreg reached scikit-learn's final objective at iteration {reached[0]} after "
              f"{reached[1]:.2f} s (median){extra}: {sk_seconds / reached[1]:.1f}x sooner")
    else:
        print(f"logreg did not reach scikit-learn's final objective in {10 * args.max_iter} iterations")


if __name__ == "__main__":
    main()
