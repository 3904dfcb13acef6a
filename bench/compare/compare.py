#!/usr/bin/env python3
"""Runs the same MNIST training in PyTorch and in logreg's mnist_train and prints a table.

Both get identical settings: epochs, batch size, learning rate, seed-independent default
initialisation (U(-1/sqrt(784), 1/sqrt(784)) for weights and bias), pixels / 255, plain SGD,
float32, and the same thread count. Seconds per epoch are medians over the epochs.

  /usr/bin/python3 bench/compare/compare.py --mnist-train build/examples/mnist_train \\
      --epochs 10 --batch-size 64 --threads 1

Exits 77 (CTest's skip code) when torch or the MNIST files are missing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run_pytorch(args):
    cmd = [args.python, os.path.join(HERE, "compare_pytorch.py"), "--data", args.data, "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size), "--lr", str(args.lr), "--threads", str(args.threads)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode == 77:
        print(p.stdout.strip())
        sys.exit(77)
    if p.returncode != 0:
        sys.exit(f"compare: PyTorch run failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1]), cmd


def run_logreg(args):
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "metrics.json")
        cmd = [args.mnist_train, "--data", args.data, "--quiet", "--epochs", str(args.epochs), "--batch-size",
               str(args.batch_size), "--lr", str(args.lr), "--threads", str(args.threads), "--init", "uniform",
               "--normalize", "unit", "--schedule", "constant", "--val-split", "0",
               "--metrics-json", metrics]  # PyTorch side: constant lr, whole training set
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"compare: mnist_train failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        with open(metrics) as f:
            m = json.load(f)
    seconds = [e["seconds"] for e in m["epochs"]]
    build = p.stdout.strip().splitlines()[0] if p.stdout.strip() else ""
    return {"seconds_per_epoch": statistics.median(seconds), "test_accuracy": m["test_accuracy"],
            "build": build}, cmd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist-train", required=True, help="path to the mnist_train program")
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch (Debian: /usr/bin/python3)")
    ap.add_argument("--data", default=os.environ.get("LOGREG_MNIST_DIR") or os.environ.get("LOGREG_MNIST_FALLBACK_DIR", ""),
                    help="MNIST folder (default: $LOGREG_MNIST_DIR, then $LOGREG_MNIST_FALLBACK_DIR)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if not args.data or not any(os.path.exists(os.path.join(args.data, "train-images-idx3-ubyte" + ext))
                                for ext in ("", ".gz")):
        print("compare: skipped: no MNIST folder (set LOGREG_MNIST_DIR or pass --data)")
        return 77

    torch_result, torch_cmd = run_pytorch(args)
    ours, our_cmd = run_logreg(args)
    ratio = torch_result["seconds_per_epoch"] / ours["seconds_per_epoch"]
    print(f"MNIST, batch {args.batch_size}, lr {args.lr}, {args.epochs} epochs, {args.threads} thread(s), float32")
    print(f"PyTorch {torch_result['torch']} ({torch_result['blas']}); logreg: {ours['build']}")
    print(f"{'system':<10} {'ms/epoch':>10} {'test acc':>9}")
    print(f"{'pytorch':<10} {1000 * torch_result['seconds_per_epoch']:>10.1f} {torch_result['test_accuracy']:>9.4f}")
    print(f"{'logreg':<10} {1000 * ours['seconds_per_epoch']:>10.1f} {ours['test_accuracy']:>9.4f}")
    print(f"speed-up (pytorch / logreg): {ratio:.1f}x")
    print("commands:\n  " + " ".join(torch_cmd) + "\n  " + " ".join(our_cmd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
