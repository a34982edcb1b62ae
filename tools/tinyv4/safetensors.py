"""Minimal safetensors reader / writer (numpy), so the export depends on nothing but numpy.

File = u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}},
then the raw little-endian tensor bytes. We write names sorted, data in that order, and pad
the header with spaces to a multiple of 8 bytes so the data section stays aligned.
"""
import json
import struct

import numpy as np

# safetensors dtype -> numpy dtype of the stored bytes (FP8 / E8M0 / BF16 kept as raw bits).
STORAGE = {
    "F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "I8": np.int8,
    "U8": np.uint8, "BF16": np.uint16, "F16": np.float16, "F8_E4M3": np.uint8,
    "F8_E8M0": np.uint8,
}


def write(path, tensors, metadata=None):
    """tensors: {name: (dtype string, numpy array of the storage type)}."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        dtype, arr = tensors[name]
        arr = np.ascontiguousarray(arr, dtype=STORAGE[dtype])
        raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = metadata or {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read(path):
    """-> ({name: (dtype string, numpy array of the storage type)}, metadata)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=STORAGE[info["dtype"]]).reshape(info["shape"])
        out[name] = (info["dtype"], arr)
    return out, meta
