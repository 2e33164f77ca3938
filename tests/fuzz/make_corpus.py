#!/usr/bin/env python3
"""Writes the .npy seed corpus tests/fuzz/corpus/npy/ (small valid and invalid files).
Run once from the repository root with numpy installed; the files are committed, so the
fuzz targets and `make fuzz-replay` do not need Python. Re-running rewrites the same bytes."""
import io, os, struct
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "npy")
os.makedirs(out, exist_ok=True)

def npy(a, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, a)
    else:
        np.lib.format.write_array(b, a, version=version)
    return b.getvalue()

def raw(header, payload=b"", version=1):
    h = header.encode("latin1")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + payload
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(h)) + h + payload

files = {
    # valid
    "f8_2x3": npy(np.arange(6, dtype="<f8").reshape(2, 3)),
    "f4_3": npy(np.array([1.5, -2, 3e30], dtype="<f4")),
    "f8_be_2x2": npy(np.array([[1, 2], [3, 4]], dtype=">f8")),
    "f4_be_1x1x2": npy(np.array([[[np.inf, np.nan]]], dtype=">f4")),
    "f8_scalar": npy(np.array(3.25)),
    "f8_empty_0x4": npy(np.zeros((0, 4))),
    "f8_v2": npy(np.ones((2, 2)), version=(2, 0)),
    "f8_v3": npy(np.ones(3), version=(3, 0)),
    "f8_8dims": npy(np.ones((1,) * 8)),
    "f8_native_eq": raw("{'descr': '=f8', 'fortran_order': False, 'shape': (1,), }\n", struct.pack("<d", 7)),
    "f8_dq_keys": raw('{"descr": "<f8", "shape": (2,), "fortran_order": False}\n', struct.pack("<2d", 1, 2)),
    # invalid
    "bad_magic": b"\x93NUMPX\x01\x00\x10\x00{}              ",
    "short": b"\x93NUMPY\x01",
    "empty": b"",
    "bad_version": raw("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 8, version=9),
    "hlen_past_end": b"\x93NUMPY\x01\x00\xff\xff{'descr'",
    "v2_hlen_huge": b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}",
    "int64": npy(np.arange(3, dtype="<i8")),
    "complex": npy(np.array([1j])),
    "fortran": npy(np.asfortranarray(np.ones((2, 3)))),
    "record": npy(np.zeros(2, dtype=[("a", "<f8"), ("b", "<f4")])),
    "truncated_payload": npy(np.ones((4, 4)))[:-9],
    "shape_overflow": raw("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n"),
    "shape_digits_overflow": raw("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n"),
    "shape_huge_truncated": raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741825,), }\n", b"\0" * 8),
    "nine_dims": raw("{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }\n", b"\0" * 8),
    "missing_shape": raw("{'descr': '<f8', 'fortran_order': False, }\n", b"\0" * 8),
    "dup_key": raw("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 8),
    "unterminated_str": raw("{'descr: <f8, 'fortran_order': False, 'shape': (1,), }\n", b"\0" * 8),
    "neg_shape": raw("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }\n", b"\0" * 8),
    "no_brace": raw("'descr': '<f8', 'fortran_order': False, 'shape': (1,)\n", b"\0" * 8),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print("wrote %d files to %s" % (len(files), out))
