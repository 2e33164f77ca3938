#!/usr/bin/env python3
"""Writes the seed inputs for fuzzing ridgediff's IDX and PNG loaders (wip/latent.h) into
this directory. Standard library only (zlib, struct): the PNGs are encoded here by hand so
that the seeds cover what stb_image_write cannot make (palette + tRNS, 1- and 16-bit depth,
Adam7 interlacing, several IDAT chunks). Run: python3 tests/fuzz/seeds-latent/make_seeds.py
  idx_*.idx -> rdg_idx_read_mem        png_*.png -> rdg_png_read_mem / rdg_png_sheet_read_mem"""
import os, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))

def idx(dims, payload, typ=8):
    return bytes([0, 0, typ, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload)

def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xffffffff)

def png(w, h, depth, ctype, rows, interlace=0, extra=b"", split=0):
    """rows: the filtered scanline bytes (filter byte included), already laid out."""
    raw = zlib.compress(b"".join(rows), 9)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    if split:
        idat = b"".join(chunk(b"IDAT", raw[i:i + split]) for i in range(0, len(raw), split))
    else:
        idat = chunk(b"IDAT", raw)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + idat + chunk(b"IEND", b"")

def put(name, data):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)

# IDX: images (2 x 4 x 4), labels (5), a 3-d image with odd sizes, and a truncated one
put("idx_images.idx", idx([2, 4, 4], [(17 * i) % 256 for i in range(32)]))
put("idx_labels.idx", idx([5], [4, 8, 4, 8, 0]))
put("idx_odd.idx", idx([1, 3, 5], range(0, 255, 17)))
put("idx_truncated.idx", idx([2, 4, 4], range(20)))
put("idx_float_type.idx", idx([2], b"\x00" * 8, typ=0x0D))

# PNG: grey 8-bit 5 x 3 (filters 0..2), grey 16-bit, grey 1-bit, RGB, RGBA, palette + tRNS
put("png_grey8.png", png(5, 3, 8, 0, [bytes([f]) + bytes(17 * (5 * r + c) for c in range(5))
                                      for r, f in zip(range(3), (0, 1, 2))]))
put("png_grey16.png", png(3, 2, 16, 0, [b"\x00" + b"".join(struct.pack(">H", 9000 * (3 * r + c)) for c in range(3))
                                        for r in range(2)]))
put("png_grey1.png", png(9, 2, 1, 0, [b"\x00\xa5\x80", b"\x00\x5a\x00"]))
put("png_rgb8.png", png(2, 2, 8, 2, [b"\x00" + bytes([0, 200, 10, 60, 200, 10]),
                                     b"\x04" + bytes([120, 0, 10, 180, 5, 10])]))
put("png_rgba8.png", png(2, 1, 8, 6, [b"\x03" + bytes([10, 20, 30, 255, 200, 100, 50, 0])]))
put("png_palette.png", png(4, 2, 2, 3, [b"\x00\x1b", b"\x00\xe4"],
                           extra=chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255]))
                                 + chunk(b"tRNS", b"\xff\x80")))
# Adam7-interlaced grey 8-bit 8 x 8: the 7 passes' scanlines, each filter 0
def adam7(w, h, px):
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        for y in range(y0, h, dy):
            line = [px[y][x] for x in range(x0, w, dx)]
            if line:
                rows.append(b"\x00" + bytes(line))
    return rows
img8 = [[(8 * y + x) * 4 for x in range(8)] for y in range(8)]
put("png_interlaced.png", png(8, 8, 8, 0, adam7(8, 8, img8), interlace=1))
# a sheet: 2 x 1 tiles of 4 x 4 (rdg_png_sheet_read_mem with tile 4 x 4), IDAT split in 3
put("png_sheet_4x4.png", png(8, 4, 8, 0, [b"\x00" + bytes(16 * t + 4 * r + c for t in range(2) for c in range(4))
                                          for r in range(4)], split=8))
# a PNG cut in its IDAT (the loader must say TRUNCATED)
full = png(5, 3, 8, 0, [b"\x00" + bytes(range(5))] * 3)
put("png_truncated.png", full[:45])
