"""scikit-learn's own digits and wine files, trained through `logreg train` with a stratified 75/25
split, against scikit-learn's StandardScaler + LogisticRegression on the same split: the test
accuracies must agree to within one test sample.

    sklearn_proof.py LOGREG_BINARY WORK_DIR

Prints "skipped: ..." (a CTest skip) when scikit-learn or its data files are not installed.
"""
import json
import os
import subprocess
import sys

try:
    import numpy as np
    import sklearn.datasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
except ImportError as e:
    print(f"skipped: scikit-learn is not installed ({e}); apt-get install python3-sklearn")
    sys.exit(0)

logreg, work = sys.argv[1], sys.argv[2]
data_dir = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data")
# name, file, the options that read it, how numpy reads it
cases = [
    ("digits", "digits.csv.gz", ["--no-header"], dict(delimiter=",")),
    ("wine", "wine_data.csv", ["--no-header", "--skip-lines", "1"], dict(delimiter=",", skiprows=1)),
]
missing = [f for _, f, _, _ in cases if not os.path.exists(os.path.join(data_dir, f))]
if missing:
    print(f"skipped: scikit-learn's data files {missing} are not in {data_dir}")
    sys.exit(0)

failed = False
for name, file, options, np_args in cases:
    path = os.path.join(data_dir, file)
    metrics = os.path.join(work, f"sklearn_{name}.json")
    cmd = [logreg, "train", "--data", path, *options, "--test-split", "0.25", "--stratify", "--seed", "0",
           "--C", "1.0", "--tol", "1e-6", "--max-iter", "1000", "--metrics-json", metrics, "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    print(run.stdout, run.stderr, sep="")
    if run.returncode != 0:
        print(f"{name}: logreg train failed with exit code {run.returncode}")
        failed = True
        continue
    with open(metrics) as f:
        m = json.load(f)
    table = np.loadtxt(path, **np_args)
    x, y = table[:, :-1], table[:, -1].astype(int)
    train, test = np.array(m["train_rows"]), np.array(m["test_rows"])
    # The split is stratified: every class's share of the test part within one row.
    for c in np.unique(y):
        share = 0.25 * np.sum(y == c)
        if abs(np.sum(y[test] == c) - share) > 1:
            print(f"{name}: class {c} has {np.sum(y[test] == c)} test rows, expected {share:.2f} +- 1")
            failed = True
    scaler = StandardScaler().fit(x[train])
    clf = LogisticRegression(C=1.0, tol=1e-6, max_iter=1000).fit(scaler.transform(x[train]), y[train])
    theirs = clf.score(scaler.transform(x[test]), y[test])
    ours = m["test_accuracy"]
    gap = abs(ours - theirs) * len(test)
    print(f"{name}: {len(train)} train / {len(test)} test rows; logreg {ours:.4f}, scikit-learn {theirs:.4f} "
          f"({gap:.1f} test samples apart)")
    if gap > 1 + 1e-9:
        failed = True
    # The same table as NumPy files (features float32, labels int64) gives the same split and model.
    xs, ys = os.path.join(work, f"sklearn_{name}_X.npy"), os.path.join(work, f"sklearn_{name}_y.npy")
    np.save(xs, x.astype(np.float32))
    np.save(ys, y.astype(np.int64))
    npy_metrics = os.path.join(work, f"sklearn_{name}_npy.json")
    run = subprocess.run([logreg, "train", "--data", xs, "--labels", ys, *cmd[cmd.index("--test-split"):-3],
                          "--metrics-json", npy_metrics, "--quiet"], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{name}: logreg train on .npy files failed: {run.stderr}")
        failed = True
        continue
    with open(npy_metrics) as f:
        n = json.load(f)
    same = n["test_rows"] == m["test_rows"] and n["test_accuracy"] == ours
    print(f"{name} as .npy files: test accuracy {n['test_accuracy']:.4f}, {'the same' if same else 'NOT the same'}"
          " split and accuracy as from the CSV file")
    failed = failed or not same
sys.exit(1 if failed else 0)
