#!/usr/bin/env python3
"""Check a logreg model file with an independent reader: the standard library and numpy only.

    read_with_numpy.py MODEL DATA [--prob-tol TOL] [--min-agreement FRACTION]

MODEL is a safetensors file written by logreg::io::save_model. DATA is a safetensors file with
  inputs         [n, ...]        raw (not preprocessed) inputs, any integer or float dtype;
                                 trailing dimensions are flattened (e.g. MNIST [n, 28, 28])
  predictions    [n]    optional the classes C++ predicted (an integer dtype)
  probabilities  [n, k] optional the probabilities C++ computed
  labels         [n]    optional true classes; only reported (accuracy), never checked
At least one of predictions / probabilities must be present.

This script parses both files itself (struct, json, numpy.frombuffer), applies the
preprocessing the model's metadata and tensors describe, computes logits in float64 and checks
that the argmax agrees with `predictions` (default: on every row) and the softmax with
`probabilities` within TOL (default 1e-5 for an F32 model, 1e-10 for F64).

Exit codes: 0 agreed, 1 disagreed, 2 unreadable or malformed input, 77 numpy is not installed
(registered as SKIP_RETURN_CODE in CTest).
"""

import argparse
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    print("skipped: python3-numpy not installed (apt-get install python3-numpy)")
    sys.exit(77)

DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1",
    "BOOL": "?",
}
MAX_HEADER = 100_000_000


class FormatProblem(Exception):
    pass


def read_safetensors(path):
    """Returns ({name: numpy array}, {metadata key: value}) after checking the layout."""
    with open(path, "rb") as f:
        blob = f.read()

    def fail(problem):
        raise FormatProblem(f"{path}: {problem}")

    if len(blob) < 8:
        fail(f"file is {len(blob)} bytes, shorter than the 8-byte header size")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or n > len(blob) - 8:
        fail(f"header length {n} is too large for a {len(blob)}-byte file")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            fail(f"duplicate keys in the header: {sorted(k for k in set(keys) if keys.count(k) > 1)}")
        return dict(pairs)

    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"header is not valid JSON: {e}")
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    buffer = memoryview(blob)[8 + n:]

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail("__metadata__ is not an object of strings")

    tensors, spans = {}, []
    for name, info in header.items():
        if not isinstance(info, dict):
            fail(f"tensor {name!r} is not an object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPES:
            fail(f"tensor {name!r} has unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            fail(f"tensor {name!r} has shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(type(o) is int and o >= 0 for o in offsets)):
            fail(f"tensor {name!r} has data_offsets {offsets!r}")
        begin, end = offsets
        np_dtype = np.dtype(DTYPES[dtype])
        count = 1
        for d in shape:
            count *= d
        if not begin <= end <= len(buffer) or end - begin != count * np_dtype.itemsize:
            fail(f"tensor {name!r}: data_offsets {offsets} do not fit shape {shape} of {dtype}")
        tensors[name] = np.frombuffer(buffer, dtype=np_dtype, count=count, offset=begin).reshape(shape)
        spans.append((begin, end, name))

    covered = 0
    for begin, end, name in sorted(spans):
        if begin != covered:
            fail(f"tensor {name!r} starts at {begin}, expected {covered} (gap or overlap)")
        covered = end
    if covered != len(buffer):
        fail(f"bytes [{covered}, {len(buffer)}) of the buffer belong to no tensor")
    return tensors, metadata


def load_model(path):
    """Returns (weight, bias, preprocess function, metadata) of a logreg model file."""
    tensors, meta = read_safetensors(path)
    if meta.get("format", "logreg.linear_softmax") != "logreg.linear_softmax":
        raise FormatProblem(f"{path}: format is {meta['format']!r}")
    try:
        weight, bias = tensors["weight"], tensors["bias"]
    except KeyError as e:
        raise FormatProblem(f"{path}: no tensor {e}") from None
    if weight.ndim != 2 or bias.shape != (weight.shape[0],):
        raise FormatProblem(f"{path}: weight {weight.shape} and bias {bias.shape} do not fit")
    if weight.dtype != bias.dtype or weight.dtype.kind != "f":
        raise FormatProblem(f"{path}: weight and bias must be F32 or F64 of one dtype")
    dt = weight.dtype.newbyteorder("=")
    kind = meta.get("normalization", "none")

    # The same elementwise operations as logreg::Preprocessor, in the model's dtype, so the
    # preprocessed inputs are bit-identical to the C++ ones.
    if kind == "none":
        def preprocess(x):
            return x.astype(dt)
    elif kind == "unit":
        scale = dt.type(float(meta["unit_scale"]))

        def preprocess(x):
            return (x.astype(dt) - dt.type(0)) * scale
    elif kind == "standard":
        offset = tensors["preprocess.offset"].astype(dt)
        scale = tensors["preprocess.scale"].astype(dt)
        if offset.shape != (weight.shape[1],) or scale.shape != (weight.shape[1],):
            raise FormatProblem(f"{path}: preprocess tensors do not have {weight.shape[1]} features")

        def preprocess(x):
            return (x.astype(dt) - offset) * scale
    else:
        raise FormatProblem(f"{path}: unknown normalization {kind!r}")
    return weight, bias, preprocess, meta


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="model .safetensors written by logreg::io::save_model")
    parser.add_argument("data", help="inputs and C++ outputs (.safetensors)")
    parser.add_argument("--prob-tol", type=float, default=None,
                        help="max |p_numpy - p_cpp| (default 1e-5 for F32 models, 1e-10 for F64)")
    parser.add_argument("--min-agreement", type=float, default=1.0,
                        help="fraction of rows whose predictions must agree (default 1.0)")
    args = parser.parse_args()

    try:
        weight, bias, preprocess, meta = load_model(args.model)
        data, _ = read_safetensors(args.data)
    except (FormatProblem, OSError, KeyError, ValueError) as e:
        print(f"read_with_numpy.py: {e}")
        return 2
    if "inputs" not in data or not ({"predictions", "probabilities"} & data.keys()):
        print(f"read_with_numpy.py: {args.data} needs 'inputs' and 'predictions' and/or 'probabilities'")
        return 2

    inputs = data["inputs"]
    n = inputs.shape[0]
    x = preprocess(inputs.reshape(n, -1))
    if x.shape[1] != weight.shape[1]:
        print(f"read_with_numpy.py: inputs have {x.shape[1]} features, the model {weight.shape[1]}")
        return 2
    # The reference is computed in float64: it is the more exact of the two.
    logits = x.astype(np.float64) @ weight.astype(np.float64).T + bias.astype(np.float64)
    predicted = np.argmax(logits, axis=1)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba = shifted / shifted.sum(axis=1, keepdims=True)

    ok = True
    print(f"model {args.model}: {weight.shape[0]} classes, {weight.shape[1]} features, "
          f"{weight.dtype.name}, normalization {meta.get('normalization', 'none')}; {n} rows")
    if "predictions" in data:
        cpp = data["predictions"].astype(np.int64).reshape(-1)
        agree = cpp == predicted
        fraction = float(agree.mean()) if n else 1.0
        print(f"predictions agree on {int(agree.sum())}/{n} rows ({100 * fraction:.4f}%)")
        for i in np.flatnonzero(~agree)[:10]:
            top = np.sort(logits[i])[-2:]
            print(f"  row {i}: C++ {cpp[i]}, numpy {predicted[i]}, top-2 logit gap {top[1] - top[0]:.3g}")
        if fraction < args.min_agreement:
            print(f"FAIL: agreement {fraction} < {args.min_agreement}")
            ok = False
    if "probabilities" in data:
        tol = args.prob_tol if args.prob_tol is not None else (1e-5 if weight.dtype.itemsize == 4 else 1e-10)
        cpp_p = data["probabilities"].astype(np.float64)
        if cpp_p.shape != proba.shape:
            print(f"FAIL: probabilities have shape {cpp_p.shape}, expected {proba.shape}")
            ok = False
        else:
            err = float(np.abs(cpp_p - proba).max()) if n else 0.0
            print(f"max |p_numpy - p_cpp| = {err:.3g} (tolerance {tol:g})")
            if not err <= tol:
                print("FAIL: probabilities differ")
                ok = False
    if "labels" in data:
        print(f"accuracy against labels: {100 * float((predicted == data['labels'].reshape(-1)).mean()):.2f}%")
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
