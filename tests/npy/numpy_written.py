"""Arrays written by NumPy itself (np.save, and format 2.0 through np.lib.format) read by logreg's
.npy reader (npy_dump) as the same numbers; Fortran-order and structured arrays refused.

    numpy_written.py NPY_DUMP WORK_DIR
"""
import os
import subprocess
import sys

try:
    import numpy as np
except ImportError as e:
    print(f"skipped: NumPy is not installed ({e})")
    sys.exit(0)

dump, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(16)
failed = False


def read(path):
    run = subprocess.run([dump, path], capture_output=True, text=True)
    return run.returncode, run.stdout, run.stderr


def check_same(name, a):
    global failed
    path = os.path.join(work, name + ".npy")
    np.save(path, a)
    rc, out, err = read(path)
    if rc != 0:
        print(f"{name}: refused: {err.strip()}")
        failed = True
        return
    got = np.array([[float(v) for v in line.split()] for line in out.splitlines()])
    if got.shape != a.shape or not np.array_equal(got, a.astype(np.float64)):
        print(f"{name}: read {got.shape} differs from the {a.shape} array written")
        failed = True
    else:
        print(f"{name}: {a.shape} {a.dtype.str} read exactly")


base = rng.integers(0, 100, size=(5, 4))
for dtype in ["u1", "i1", "<i2", ">i2", "<u2", "<i4", ">i4", "<u4", "<i8", "<u8"]:
    check_same("int_" + dtype.replace("<", "le_").replace(">", "be_"), base.astype(dtype))
check_same("negative_i8", -base.astype("<i8"))
for dtype in ["<f4", ">f4", "<f8", ">f8"]:
    check_same("float_" + dtype.replace("<", "le_").replace(">", "be_"), rng.normal(size=(6, 3)).astype(dtype))

# Format 2.0 (numpy writes it for headers above 64 KiB; forced here).
a = rng.normal(size=(3, 2))
path = os.path.join(work, "version2.npy")
with open(path, "wb") as f:
    np.lib.format.write_array(f, a, version=(2, 0))
rc, out, _ = read(path)
if rc != 0 or not np.array_equal(np.array([[float(v) for v in l.split()] for l in out.splitlines()]), a):
    print("version2: not read as written")
    failed = True
else:
    print("version2: read exactly")

# Refused with a message naming the problem.
for name, arr, expect in [
    ("fortran", np.asfortranarray(rng.normal(size=(3, 2))), "Fortran order"),
    ("structured", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]), "not a plain number type"),
    ("float16", np.zeros((2, 2), dtype="<f2"), "is not read"),
]:
    path = os.path.join(work, name + ".npy")
    np.save(path, arr)
    rc, _, err = read(path)
    if rc != 2 or expect not in err:
        print(f"{name}: expected exit 2 and '{expect}', got {rc}: {err.strip()}")
        failed = True
    else:
        print(f"{name}: refused ({err.strip()})")
sys.exit(1 if failed else 0)
