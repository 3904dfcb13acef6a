#!/usr/bin/env python3
"""Trains the same softmax-regression model as mnist_train, in PyTorch, and times each epoch.

nn.Linear(784, 10) with PyTorch's default initialisation, CrossEntropyLoss, SGD (lr 0.1),
batch 64, float32, pixels / 255. The data is converted to float tensors once; each epoch
shuffles a randperm index and slices the batches from the pre-shuffled copy, which is the
fastest plain-PyTorch loop (a DataLoader adds far more per-step overhead). Prints one JSON
line: seconds per epoch (median and each), test accuracy, and the BLAS PyTorch uses.
Exits 77 (CTest's skip code) when torch or the MNIST files are missing.

Run with the interpreter that has torch (Debian: /usr/bin/python3).
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import sys
import time


def load_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return data[4 + 4 * ndim:], dims


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    return None


def blas_info(torch):
    import re
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return ("BLAS_INFO=" + m.group(1) + (" (reference BLAS)" if m.group(1) == "generic" else "")) if m else "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("LOGREG_MNIST_DIR", "data/mnist"))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(f"compare_pytorch: skipped: {e} (Debian: apt install python3-torch; run /usr/bin/python3)")
        return 77
    files = {k: find(args.data, k) for k in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    if not all(files.values()):
        print(f"compare_pytorch: skipped: MNIST not found in {args.data} (set LOGREG_MNIST_DIR)")
        return 77

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def images(path):
        raw, dims = load_idx(path)
        return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8).reshape(dims[0], -1).astype(np.float32) / 255.0)

    def labels(path):
        raw, _ = load_idx(path)
        return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8).astype(np.int64))

    x_train, y_train = images(files["train-images-idx3-ubyte"]), labels(files["train-labels-idx1-ubyte"])
    x_test, y_test = images(files["t10k-images-idx3-ubyte"]), labels(files["t10k-labels-idx1-ubyte"])

    model = torch.nn.Linear(x_train.shape[1], 10)  # default init: U(-1/sqrt(784), 1/sqrt(784))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    n, bs = x_train.shape[0], args.batch_size
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        perm = torch.randperm(n)
        xs, ys = x_train[perm], y_train[perm]  # one gather per epoch, then contiguous slices
        for i in range(0, n, bs):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[i:i + bs]), ys[i:i + bs])
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(json.dumps({
        "system": "pytorch",
        "torch": torch.__version__,
        "blas": blas_info(torch),
        "threads": torch.get_num_threads(),
        "epochs": args.epochs,
        "batch_size": bs,
        "seconds_per_epoch": statistics.median(seconds),
        "epoch_seconds": seconds,
        "test_accuracy": accuracy,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
