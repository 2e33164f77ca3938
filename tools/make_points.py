#!/usr/bin/env python3
"""Writes the paper's 2-D point sets (MATH.md 6, "Settings") to data/*.npy, float64 (N, 2).
Run from the repository root: /usr/bin/python3 tools/make_points.py"""
import numpy as np

SETS = {
    "two_points": [(-3, 0), (3, 0)],
    "three_points": [(0, 0), (5, 0), (0, 5)],
}
for name, pts in SETS.items():
    np.save(f"data/{name}.npy", np.array(pts, dtype=np.float64))
# a few query points for the CLI quick look
np.save("data/queries_2d.npy", np.array([[0.5, 0.7], [1.0, -2.0], [2.5, 2.5], [4.0, 1.0]], dtype=np.float64))
