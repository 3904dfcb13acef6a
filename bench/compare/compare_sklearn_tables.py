"""Training time of `logreg train` against scikit-learn on scikit-learn's own digits and wine files.

Both fit StandardScaler + the L2-regularized multinomial logistic regression (C = 1, tol 1e-6) on
the same stratified 75 % of the rows (logreg's split, read back from its metrics JSON). logreg's
time is the training time it reports (the solver, its set-up and the preprocessing fit; not the file
reading); scikit-learn's is `StandardScaler().fit_transform` + `LogisticRegression.fit`. Medians of
RUNS runs each, and the test accuracies of both.

    /usr/bin/python3 bench/compare/compare_sklearn_tables.py --logreg build/examples/logreg [--runs 7] [--threads 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import sklearn.datasets
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--logreg", required=True)
parser.add_argument("--runs", type=int, default=7)
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()

data_dir = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data")
cases = [("digits", "digits.csv.gz", ["--no-header"], dict(delimiter=",")),
         ("wine", "wine_data.csv", ["--no-header", "--skip-lines", "1"], dict(delimiter=",", skiprows=1))]
print("| data | rows x features, classes | logreg s | scikit-learn s | speed-up | test accuracy logreg / scikit-learn |")
print("|---|---|---|---|---|---|")
with tempfile.TemporaryDirectory() as work:
    for name, file, options, np_args in cases:
        path = os.path.join(data_dir, file)
        metrics = os.path.join(work, name + ".json")
        ours = []
        for _ in range(args.runs):
            subprocess.run([args.logreg, "train", "--data", path, *options, "--test-split", "0.25", "--stratify",
                            "--C", "1", "--tol", "1e-6", "--max-iter", "1000", "--threads", str(args.threads),
                            "--metrics-json", metrics, "--quiet"], check=True, capture_output=True)
            with open(metrics) as f:
                m = json.load(f)
            ours.append(m["train_seconds"])
        table = np.loadtxt(path, **np_args)
        x, y = table[:, :-1], table[:, -1].astype(int)
        train, test = np.array(m["train_rows"]), np.array(m["test_rows"])
        theirs = []
        for _ in range(args.runs):
            start = time.perf_counter()
            scaler = StandardScaler()
            xs = scaler.fit_transform(x[train])
            clf = LogisticRegression(C=1.0, tol=1e-6, max_iter=1000).fit(xs, y[train])
            theirs.append(time.perf_counter() - start)
        acc = clf.score(scaler.transform(x[test]), y[test])
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"| {name} | {x.shape[0]} x {x.shape[1]}, {len(np.unique(y))} | {a:.4f} | {b:.4f} | {b / a:.1f}x | "
              f"{m['test_accuracy']:.4f} / {acc:.4f} |")
