#!/usr/bin/env python3
"""Writes tests/golden/golden.json: reference values from PyTorch for logreg's golden tests.

test_golden.cpp replays every case with logreg::SGD / logreg::Schedule / logreg::CrossEntropy
and compares with what PyTorch (float64) computed here:

* sgd_cases: 8 steps of full training of logits = x W^T + b with nn.CrossEntropyLoss and
  torch.optim.SGD (and an lr_scheduler stepped after every optimizer step, so the schedule's
  t counts steps). Every step records the lr it used, the batch loss before the update and
  W, b after the update.
* adam_cases: the same 8 steps with torch.optim.Adam and torch.optim.AdamW (bias correction,
  weight decay folded into the gradient or decoupled, amsgrad, other betas and eps, schedules).
* cross_entropy_cases: loss and dL/dlogits of nn.CrossEntropyLoss(weight, label_smoothing)
  for fixed logits; sample weights are emulated by duplicating rows (weight k = k copies).

Usage:
  make_golden.py [--output FILE] [--compare COMMITTED]
With --compare the fresh output must match COMMITTED (byte-identical, or every number within
1e-12 relative); exit 1 if not. Exit 77 (a CTest skip) when torch cannot be imported.

Deterministic: inputs come from Python's own seeded PRNG (stable across versions) rounded to
short decimals, torch runs in float64 on one thread, and floats are written with repr, which
round-trips exactly.
"""

import argparse
import json
import math
import os
import random
import sys

SKIP = 77  # CTest's SKIP_RETURN_CODE for golden_fixture_is_current

SEED = 20240613
FEATURES = 5
CLASSES = 3
STEPS = 8
BATCH_SIZES = [4, 5, 6, 7, 4, 5, 6, 7]  # one batch per step
BASE_LR = 0.5  # large enough that the cases drift apart visibly in 8 steps


def rounded(rng, lo, hi, digits=3):
    # Short decimals keep the fixture small; the doubles they denote are exact inputs.
    return round(rng.uniform(lo, hi), digits)


def make_problem(rng):
    batches = []
    for n in BATCH_SIZES:
        x = [[rounded(rng, -2.0, 2.0) for _ in range(FEATURES)] for _ in range(n)]
        y = [rng.randrange(CLASSES) for _ in range(n)]
        batches.append({"x": x, "y": y})
    w0 = [[rounded(rng, -0.5, 0.5) for _ in range(FEATURES)] for _ in range(CLASSES)]
    b0 = [rounded(rng, -0.5, 0.5) for _ in range(CLASSES)]
    return {"features": FEATURES, "classes": CLASSES, "batches": batches, "W0": w0, "b0": b0}


def sgd(lr=BASE_LR, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, decay_bias=True):
    return {"lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov,
            "weight_decay": weight_decay, "decay_bias": decay_bias}


CONSTANT = {"kind": "constant"}

SGD_CASES = [
    ("plain", sgd(), CONSTANT),
    ("momentum", sgd(momentum=0.9), CONSTANT),
    ("momentum_dampening", sgd(momentum=0.9, dampening=0.5), CONSTANT),
    ("nesterov", sgd(momentum=0.9, nesterov=True), CONSTANT),
    ("weight_decay", sgd(weight_decay=0.01), CONSTANT),
    ("nesterov_weight_decay", sgd(momentum=0.9, nesterov=True, weight_decay=0.01), CONSTANT),
    # decay_bias=false is two param groups in PyTorch: the bias with weight_decay 0.
    ("weight_decay_no_bias", sgd(momentum=0.9, weight_decay=0.05, decay_bias=False), CONSTANT),
    # Schedules with momentum: the buffer holds gradients, so the lr change must act outside it.
    ("schedule_step", sgd(momentum=0.9), {"kind": "step", "step_size": 2, "gamma": 0.5}),
    ("schedule_exponential", sgd(momentum=0.9), {"kind": "exponential", "gamma": 0.9}),
    # T_max=4 with 8 steps also covers t > T_max, where PyTorch's cosine rises again.
    ("schedule_cosine", sgd(momentum=0.9), {"kind": "cosine", "t_max": 4, "eta_min": 0.001}),
]


def adam(kind="adam", lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=None, amsgrad=False,
         decay_bias=True):
    if weight_decay is None:
        weight_decay = 0.01 if kind == "adamw" else 0.0  # PyTorch's defaults
    return {"optimizer": kind, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "decay_bias": decay_bias}


ADAM_CASES = [
    ("adam", adam(), CONSTANT),
    ("adam_weight_decay", adam(weight_decay=0.05), CONSTANT),
    ("adam_amsgrad", adam(amsgrad=True), CONSTANT),
    ("adam_betas_eps", adam(beta1=0.8, beta2=0.99, eps=1e-3), CONSTANT),
    ("adam_weight_decay_no_bias", adam(weight_decay=0.05, decay_bias=False), CONSTANT),
    ("adam_schedule_cosine", adam(), {"kind": "cosine", "t_max": 4, "eta_min": 0.001}),
    ("adamw", adam("adamw"), CONSTANT),
    ("adamw_weight_decay_amsgrad", adam("adamw", weight_decay=0.2, amsgrad=True), CONSTANT),
    ("adamw_schedule_step", adam("adamw", weight_decay=0.1), {"kind": "step", "step_size": 2, "gamma": 0.5}),
]


def param_groups(w, b, opt):
    if opt["decay_bias"]:
        return [{"params": [w, b], "weight_decay": opt["weight_decay"]}]
    return [{"params": [w], "weight_decay": opt["weight_decay"]}, {"params": [b], "weight_decay": 0.0}]


def run_sgd_case(torch, problem, opt, schedule):
    w = torch.tensor(problem["W0"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(problem["b0"], dtype=torch.float64, requires_grad=True)
    if "optimizer" in opt:  # Adam or AdamW
        cls = torch.optim.AdamW if opt["optimizer"] == "adamw" else torch.optim.Adam
        optimizer = cls(param_groups(w, b, opt), lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"],
                        amsgrad=opt["amsgrad"], foreach=False)
    else:
        common = dict(lr=opt["lr"], momentum=opt["momentum"], dampening=opt["dampening"], nesterov=opt["nesterov"])
        optimizer = torch.optim.SGD(param_groups(w, b, opt), **common)
    kind = schedule["kind"]
    sched = None
    if kind == "step":
        sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=schedule["step_size"], gamma=schedule["gamma"])
    elif kind == "exponential":
        sched = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=schedule["gamma"])
    elif kind == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=schedule["t_max"],
                                                           eta_min=schedule["eta_min"])
    loss_fn = torch.nn.CrossEntropyLoss()
    steps = []
    for batch in problem["batches"][:STEPS]:
        x = torch.tensor(batch["x"], dtype=torch.float64)
        y = torch.tensor(batch["y"], dtype=torch.int64)
        lr = optimizer.param_groups[0]["lr"]
        optimizer.zero_grad()
        loss = loss_fn(x @ w.T + b, y)
        loss.backward()
        optimizer.step()
        if sched is not None:
            sched.step()
        steps.append({"lr": float(lr), "loss": loss.item(), "W": w.detach().tolist(), "b": b.detach().tolist()})
    return steps


def ce_cases(rng):
    def logits(n, scale=3.0):
        return [[rounded(rng, -scale, scale) for _ in range(CLASSES)] for _ in range(n)]

    def labels(n):
        return [rng.randrange(CLASSES) for _ in range(n)]

    weights = [0.2, 1.0, 2.5]
    z6, y6 = logits(6), labels(6)
    # Huge logits: a naive exp overflows; the right and wrong answers are both represented.
    big = 1e4
    z_big = [[big, -big, 0.0], [-big, big, -big], [big, big, -big], [-big, -big, big], [0.0, big, -big]]
    y_big = [0, 0, 1, 2, 2]
    # Integer sample weights; a 0 drops the row, as if the sample were absent.
    sw = [2.0, 0.0, 1.0, 3.0, 1.0, 2.0]
    return [
        ("plain", z6, y6, None, 0.0, None),
        ("class_weights", z6, y6, weights, 0.0, None),
        ("label_smoothing", z6, y6, None, 0.1, None),
        ("class_weights_label_smoothing", z6, y6, weights, 0.1, None),
        ("sample_weights", z6, y6, None, 0.0, sw),
        ("sample_weights_class_weights_label_smoothing", z6, y6, weights, 0.1, sw),
        ("extreme_logits", z_big, y_big, None, 0.0, None),
        ("extreme_logits_class_weights_label_smoothing", z_big, y_big, weights, 0.1, None),
        ("one_sample", logits(1, 8.0), labels(1), None, 0.0, None),
    ]


def run_ce_case(torch, z, y, class_weights, smoothing, sample_weights):
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.int64)
    weight = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float64)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=smoothing, reduction="mean")
    if sample_weights is None:
        loss = loss_fn(zt, yt)
    else:
        # Row i repeated sample_weights[i] times; autograd sums the copies' gradients into zt.grad.
        idx = torch.tensor([i for i, s in enumerate(sample_weights) for _ in range(int(s))], dtype=torch.int64)
        loss = loss_fn(zt.index_select(0, idx), yt.index_select(0, idx))
    loss.backward()
    if not (math.isfinite(loss.item()) and bool(torch.isfinite(zt.grad).all())):
        raise RuntimeError("PyTorch gave a non-finite loss or gradient")
    return loss.item(), zt.grad.tolist()


def generate(torch):
    torch.set_num_threads(1)  # no thread-count-dependent reductions
    rng = random.Random(SEED)
    problem = make_problem(rng)
    sgd_out = []
    for name, opt, schedule in SGD_CASES:
        sgd_out.append({"name": name, "sgd": opt, "schedule": schedule,
                        "steps": run_sgd_case(torch, problem, opt, schedule)})
    adam_out = []
    for name, opt, schedule in ADAM_CASES:
        adam_out.append({"name": name, "adam": opt, "schedule": schedule,
                         "steps": run_sgd_case(torch, problem, opt, schedule)})
    ce_out = []
    for name, z, y, cw, eps, sw in ce_cases(rng):
        loss, grad = run_ce_case(torch, z, y, cw, eps, sw)
        ce_out.append({"name": name, "logits": z, "y": y, "class_weights": cw, "label_smoothing": eps,
                       "sample_weights": sw, "loss": loss, "grad": grad})
    return {
        "about": "Reference values from PyTorch (float64) written by tests/golden/make_golden.py; do not edit.",
        "problem": problem,
        "sgd_cases": sgd_out,
        "adam_cases": adam_out,
        "cross_entropy_cases": ce_out,
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


def numbers_close(a, b, path, rtol, errors):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            errors.append(f"{path}: keys differ: {sorted(a)} vs {sorted(b)}")
            return
        for k in a:
            numbers_close(a[k], b[k], f"{path}.{k}", rtol, errors)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            errors.append(f"{path}: length {len(a)} vs {len(b)}")
            return
        for i, (x, y) in enumerate(zip(a, b)):
            numbers_close(x, y, f"{path}[{i}]", rtol, errors)
    elif isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if abs(a - b) > rtol * max(abs(a), abs(b), 1e-300):
            errors.append(f"{path}: {a!r} vs {b!r}")
    elif a != b or type(a) != type(b):
        errors.append(f"{path}: {a!r} vs {b!r}")


def compare(fresh_text, committed_path):
    with open(committed_path, encoding="utf-8") as f:
        committed_text = f.read()
    if fresh_text == committed_text:
        print(f"golden fixture is current (byte-identical): {committed_path}")
        return 0
    errors = []
    numbers_close(json.loads(fresh_text), json.loads(committed_text), "$", 1e-12, errors)
    if errors:
        print(f"golden fixture is stale: {len(errors)} differences from a fresh run of make_golden.py", file=sys.stderr)
        for e in errors[:20]:
            print("  " + e, file=sys.stderr)
        print("regenerate with: /usr/bin/python3 tests/golden/make_golden.py", file=sys.stderr)
        return 1
    print(f"golden fixture is current (numbers within 1e-12, not byte-identical): {committed_path}")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(here, "golden.json"))
    parser.add_argument("--compare", metavar="COMMITTED", help="check that a fresh run matches this fixture")
    args = parser.parse_args()
    try:
        import torch
    except ImportError as e:
        print(f"skipped: PyTorch is not importable by {sys.executable} ({e}); "
              "install python3-torch to regenerate or check the golden fixture")
        return SKIP
    text = dumps(generate(torch)) + "\n"
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {args.output} ({len(text)} bytes) with torch {torch.__version__}")
    if args.compare:
        return compare(text, args.compare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
