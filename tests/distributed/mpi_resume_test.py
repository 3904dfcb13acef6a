#!/usr/bin/python3
"""mpirun -np 2 mnist_train --distributed stopped by a signal to ONE rank, then resumed: every rank
stops after the same batch, rank 0 saves the checkpoint, the job exits with 130, and --resume
finishes with a model file byte for byte that of an uninterrupted run. A resume with another
number of processes, or without --distributed, is refused with a message.

usage: mpi_resume_test.py MPIEXEC_WORDS MNIST_TRAIN WORK_DIR   (MPIEXEC_WORDS: "mpirun,--oversubscribe,-n")
Needs LOGREG_MNIST_DIR (set by the CTest wrapper); otherwise skipped.
"""
import os
import signal
import subprocess
import sys
import time


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ranks_of(mpirun_pid, program):
    """The pids of the program's processes started by this mpirun (its descendants)."""
    children, found = {}, []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        children.setdefault(ppid, []).append((int(entry), cmd))
    todo = [mpirun_pid]
    while todo:
        for pid, cmd in children.get(todo.pop(), []):
            todo.append(pid)
            if os.path.basename(cmd) == os.path.basename(program):
                found.append(pid)
    return sorted(found)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    mpiexec, program, work = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
    if not os.environ.get("LOGREG_MNIST_DIR"):
        print("skipped: no MNIST data: LOGREG_MNIST_DIR is not set")
        return 0
    os.makedirs(work, exist_ok=True)
    for name in os.listdir(work):
        os.remove(os.path.join(work, name))
    common = [program, "--distributed", "--epochs", "4", "--batch-size", "16", "--momentum", "0.9", "--seed", "11",
              "--quiet"]

    def mpirun(np, args):
        return [*mpiexec, str(np), *common, *args]

    ref = os.path.join(work, "reference.safetensors")
    r = subprocess.run(mpirun(2, ["--save", ref]), capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"the uninterrupted run failed ({r.returncode}): {r.stdout}{r.stderr}")

    ck, out = os.path.join(work, "run.ckpt"), os.path.join(work, "resumed.safetensors")
    for attempt in range(1, 6):
        if os.path.exists(ck):
            os.remove(ck)
        p = subprocess.Popen(mpirun(2, ["--checkpoint", ck, "--save", out]), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while not os.path.exists(ck) and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)  # the first checkpoint: epoch 1 is done, three remain
        ranks = ranks_of(p.pid, program)
        if p.poll() is None and len(ranks) == 2:
            os.kill(ranks[1], signal.SIGTERM)  # one rank only: the other learns it through the allreduce
        output = p.communicate()[0]
        if p.returncode == 0:
            print(f"attempt {attempt}: the run ended before the signal; again")
            continue
        if "interrupted" not in output or "checkpoint saved to" not in output:
            fail(f"the stopped run did not report a saved checkpoint (exit {p.returncode}):\n{output}")
        print(f"attempt {attempt}: stopped (exit {p.returncode}): " +
              next(line for line in output.splitlines() if "interrupted" in line))
        break
    else:
        fail("five runs ended before the signal reached them")
    if os.path.exists(out):
        fail("the stopped run wrote its model file")

    for np, why in ((3, "this run has 3 processes"), (None, "resume it the same way")):
        cmd = mpirun(np, ["--checkpoint", ck, "--resume", ck]) if np else \
            [a for a in common if a != "--distributed"] + ["--resume", ck]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0 or why not in r.stdout + r.stderr:
            fail(f"a resume that must be refused ({' '.join(cmd[:4])} ...) gave {r.returncode}:\n{r.stdout}{r.stderr}")
        print(f"refused as expected: ...{why}")

    r = subprocess.run(mpirun(2, ["--checkpoint", ck, "--save", out, "--resume", ck]), capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"the resumed run failed ({r.returncode}): {r.stdout}{r.stderr}")
    with open(ref, "rb") as a, open(out, "rb") as b:
        if a.read() != b.read():
            fail("the resumed model differs from the uninterrupted run's")
    print("PASS: stopped on one rank, resumed, and the model is byte for byte the uninterrupted run's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
