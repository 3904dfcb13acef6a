#!/usr/bin/env python3
"""Regenerates the real-MNIST tables of docs/performance.md: ms per epoch of mnist_train for each
build, thread count and batch size, and (with --mpi) --distributed against one process, for each build.

    python3 bench/perf_tables.py --data DIR --build default=build/examples/mnist_train \\
        --build native=build/native/examples/mnist_train [--batches 16 64 256 1024] [--threads 1 2] \\
        [--runs 3] [--epochs 10] [--mpi]

Each cell is the median over --runs runs of the median epoch of --epochs epochs (lr 0.1 constant,
no validation split), so one slow epoch or one disturbed run does not move it. The output is
Markdown, headed by the machine (CPU model and vector extensions) and each build's own line
(compiler, SIMD, kernel set), to paste into docs/performance.md as it is.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile


def cpu_line():
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", "unknown CPU", platform.machine()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = [name for name, flag in (("AVX-512", "avx512f"), ("AVX2", "avx2"), ("FMA", "fma")) if flag in flags]
    return f"{model}, {os.cpu_count()} logical CPUs, {', '.join(isa) or 'no AVX'}"


def epoch_ms(program, data, batch, threads, epochs, runs, launcher=(), extra=()):
    """Median over runs of the median epoch, in ms; also the program's first output line."""
    medians, first_line, accuracy = [], "", None
    with tempfile.TemporaryDirectory() as tmp:
        metrics = os.path.join(tmp, "m.json")
        for _ in range(runs):
            cmd = [*launcher, program, "--data", data, "--quiet", "--lr", "0.1", "--schedule", "constant",
                   "--val-split", "0", "--epochs", str(epochs), "--batch-size", str(batch),
                   "--threads", str(threads), "--metrics-json", metrics, *extra]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"perf_tables: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
            with open(metrics) as f:
                m = json.load(f)
            medians.append(1000 * statistics.median(e["seconds"] for e in m["epochs"]))
            accuracy = m["test_accuracy"]
            first_line = first_line or (p.stdout.splitlines() or [""])[0]
    return statistics.median(medians), first_line, accuracy


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("LOGREG_MNIST_DIR", "data/mnist"), help="MNIST folder")
    ap.add_argument("--build", action="append", required=True, metavar="NAME=PROGRAM",
                    help="a build's name and its mnist_train (repeat for several builds)")
    ap.add_argument("--batches", type=int, nargs="+", default=[16, 64, 256, 1024])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--mpi", action="store_true", help="also time mpirun -np 1/2 mnist_train --distributed")
    ap.add_argument("--extra", default="", help="more mnist_train options for every run, e.g. '--optimizer adam'")
    args = ap.parse_args()
    builds = [b.rsplit("=", 1) for b in args.build]  # a name may hold "=", a path hardly
    if any(len(b) != 2 for b in builds):
        sys.exit("perf_tables: --build takes NAME=PROGRAM")

    print(f"Machine: {cpu_line()}; {args.runs} runs x {args.epochs} epochs per cell, medians"
          f"{'; options ' + args.extra if args.extra else ''}.\n")
    rows, lines, accuracies = [], {}, {}
    for name, program in builds:
        for t in args.threads:
            cells = []
            for b in args.batches:
                ms, line, acc = epoch_ms(program, args.data, b, t, args.epochs, args.runs, extra=args.extra.split())
                cells.append(f"{ms:.1f}")
                lines[name] = line
                accuracies[b] = acc
            rows.append(f"| {name} | {t} | " + " | ".join(cells) + " |")
    for name, _ in builds:
        print(f"- {name}: `{lines[name]}`")
    print()
    print("| build | threads | " + " | ".join(f"B={b}" for b in args.batches) + " |")
    print("|---|---|" + "---|" * len(args.batches))
    print("\n".join(rows))
    print("\nTest accuracy after the last run: " +
          ", ".join(f"B={b}: {accuracies[b]:.4f}" for b in args.batches))

    if args.mpi:
        mpirun = shutil.which("mpirun")
        if not mpirun:
            sys.exit("perf_tables: --mpi needs mpirun (Debian: openmpi-bin)")
        os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        print(f"\nData-parallel, batch 64, 1 thread per process, {args.epochs} epochs:\n")
        print("| build | run | ms per epoch | speed-up |")
        print("|---|---|---|---|")
        for name, program in builds:
            base, _, _ = epoch_ms(program, args.data, 64, 1, args.epochs, args.runs)
            print(f"| {name} | one process, no MPI | {base:.1f} | 1 |")
            for np_ in (1, 2):
                launcher = (mpirun, "--oversubscribe", "-np", str(np_))
                ms, _, _ = epoch_ms(program, args.data, 64, 1, args.epochs, args.runs, launcher, ["--distributed"])
                print(f"| {name} | `mpirun -np {np_} ... --distributed` | {ms:.1f} | {base / ms:.2f} |")

if __name__ == "__main__":
    main()
