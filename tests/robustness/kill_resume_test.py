#!/usr/bin/python3
"""Kills a real mnist_train at random points (also in the middle of a checkpoint save), checks
that the checkpoint on disk always loads, resumes until the run completes, and compares the final
model file byte for byte with an uninterrupted run. Then the same with Ctrl-C (SIGINT), which must
finish the batch, save the checkpoint and exit with 130.

usage: kill_resume_test.py MNIST_TRAIN WORK_DIR [OPTIMIZER]   (needs LOGREG_MNIST_DIR; otherwise skipped, 77)
OPTIMIZER: sgd (default: with momentum), adam or adamw (with amsgrad and weight decay), or lbfgs (the
full-batch solver, which checkpoints after every iteration).
The random kill times come from LOGREG_TEST_SEED (printed), so a failure can be replayed.
"""
import glob
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time

SKIP = 77


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_checkpoint(path):
    """The file is a complete safetensors checkpoint: header, format, tensors tiling the data."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail(f"{path}: only {len(data)} bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        fail(f"{path}: header length {n} beyond the file ({len(data)} bytes)")
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    if meta.get("format") != "logreg.checkpoint":
        fail(f"{path}: format {meta.get('format')!r}")
    end = max(t["data_offsets"][1] for t in header.values())
    if 8 + n + end != len(data):
        fail(f"{path}: tensors end at {8 + n + end}, the file has {len(data)} bytes")
    return int(meta["epochs_done"]), int(meta["batches_done_in_epoch"])


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        return 2
    program, work = sys.argv[1], sys.argv[2]
    optimizer = sys.argv[3] if len(sys.argv) == 4 else "sgd"
    if not os.environ.get("LOGREG_MNIST_DIR"):
        print("skipped: no MNIST data: LOGREG_MNIST_DIR is not set; set it to a folder with the MNIST files")
        return SKIP
    os.makedirs(work, exist_ok=True)
    seed = int(os.environ.get("LOGREG_TEST_SEED") or 20261129)
    print(f"LOGREG_TEST_SEED={seed}")
    rng = random.Random(seed)
    length = ["--epochs", "5"]
    if optimizer == "sgd":
        settings = ["--momentum", "0.9"]
        other = ["--momentum", "0.5"]  # another setting, which a resume must refuse
    elif optimizer == "lbfgs":
        length = []
        settings = ["--optimizer", "lbfgs", "--l2", "1e-4", "--max-iter", "15"]
        other = ["--optimizer", "lbfgs", "--l2", "1e-4", "--max-iter", "15", "--tol", "1e-3"]
    else:
        settings = ["--optimizer", optimizer, "--amsgrad", "--weight-decay", "0.001"]
        other = ["--optimizer", optimizer, "--amsgrad", "--weight-decay", "0.001", "--beta1", "0.8"]
    print(f"optimizer: {optimizer}")
    common = [program, *length, *settings, "--seed", "11", "--threads", "2", "--quiet"]

    def clean(*names):
        for name in names:
            for p in glob.glob(os.path.join(work, name) + "*"):
                os.remove(p)

    # ---- the uninterrupted reference ----
    ref = os.path.join(work, "reference.safetensors")
    clean("reference.safetensors")
    t0 = time.monotonic()
    r = subprocess.run(common + ["--save", ref], capture_output=True, text=True)
    duration = time.monotonic() - t0
    if r.returncode != 0:
        fail(f"reference run failed ({r.returncode}): {r.stdout}{r.stderr}")
    print(f"reference run: {duration:.2f}s")
    with open(ref, "rb") as f:
        ref_bytes = f.read()

    # ---- SIGKILL at random points and during saves, resume each time ----
    ck = os.path.join(work, "kill.ckpt")
    out = os.path.join(work, "killed.safetensors")
    clean("kill.ckpt", "killed.safetensors")
    kills, during_save, runs = 0, 0, 0
    while True:
        runs += 1
        if runs > 40:
            fail("the run did not complete after 40 starts")
        cmd = common + ["--checkpoint", ck, "--save", out] + (["--resume", ck] if os.path.exists(ck) else [])
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        mode = "none" if kills >= 6 else ("save" if kills % 2 else "random")
        if mode == "random":
            try:
                p.wait(timeout=rng.uniform(0.05, duration))
            except subprocess.TimeoutExpired:
                p.kill()
        elif mode == "save":
            # Kill as soon as a save starts (its temporary file appears) or the checkpoint changes.
            before = os.stat(ck).st_mtime_ns if os.path.exists(ck) else None
            while p.poll() is None:
                now = os.stat(ck).st_mtime_ns if os.path.exists(ck) else None
                if glob.glob(ck + ".tmp-*") or now != before:
                    p.kill()
                    break
                time.sleep(0.0002)
        output = p.communicate()[0]
        if p.returncode == -signal.SIGKILL:
            kills += 1
            during_save += mode == "save"
            state = check_checkpoint(ck) if os.path.exists(ck) else None
            print(f"start {runs}: killed ({mode}); checkpoint: {state if state else 'none yet'}")
            continue
        if p.returncode != 0:
            fail(f"start {runs} exited with {p.returncode}: {output}")
        print(f"start {runs}: completed")
        break
    leftovers = glob.glob(ck + ".tmp-*")
    with open(out, "rb") as f:
        if f.read() != ref_bytes:
            fail(f"after {kills} kills the final model differs from the uninterrupted run's")
    print(f"SIGKILL: {kills} kills ({during_save} at a save), final model bitwise identical; "
          f"{len(leftovers)} temporary files left by kills during a save")

    # ---- SIGINT: finish the batch, save, exit 130; resume to the same result ----
    ck2 = os.path.join(work, "sigint.ckpt")
    out2 = os.path.join(work, "sigint.safetensors")
    clean("sigint.ckpt", "sigint.safetensors")
    p = subprocess.Popen(common + ["--checkpoint", ck2, "--save", out2], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    while not os.path.exists(ck2) and p.poll() is None:  # after epoch 1, somewhere in epoch 2
        time.sleep(0.001)
    time.sleep(rng.uniform(0, duration / 10))
    p.send_signal(signal.SIGINT)
    output = p.communicate()[0]
    if p.returncode != 130 or "checkpoint saved to" not in output:
        fail(f"SIGINT: expected exit 130 and 'checkpoint saved to', got {p.returncode}: {output}")
    state = check_checkpoint(ck2)
    print(f"SIGINT: exit 130, checkpoint at {state}: {output.strip().splitlines()[-1]}")
    r = subprocess.run(common + ["--checkpoint", ck2, "--save", out2, "--resume", ck2], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"resume after SIGINT failed ({r.returncode}): {r.stdout}{r.stderr}")
    with open(out2, "rb") as f:
        if f.read() != ref_bytes:
            fail("after SIGINT and resume the final model differs from the uninterrupted run's")
    print("SIGINT: resumed, final model bitwise identical")

    # ---- resuming with other options is refused, naming the option ----
    r = subprocess.run(common[:1] + [*length, *other, "--seed", "11", "--threads", "2", "--quiet",
                                     "--resume", ck2], capture_output=True, text=True)
    changed = other[-2].lstrip("-")
    if r.returncode == 0 or changed not in r.stderr:
        fail(f"resume with another --{changed}: expected an error naming {changed}, got {r.returncode}: {r.stderr}")
    print("other options: " + r.stderr.strip())
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
