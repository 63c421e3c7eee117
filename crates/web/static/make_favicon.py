#!/usr/bin/env python3
"""Writes favicon.ico: a red seal (the masthead's colour) with a white ring, 32x32, PNG inside ICO.
Pure Python (zlib only), so it runs anywhere: python3 make_favicon.py > favicon.ico"""
import math, struct, sys, zlib

N, SS = 32, 4  # size, supersampling
RED = (0xB7, 0x1C, 0x1C)

def coverage(x, y):
    """Colour and alpha of one pixel, averaged over SS*SS samples."""
    acc = [0.0, 0.0, 0.0, 0.0]
    for i in range(SS):
        for j in range(SS):
            px, py = x + (i + 0.5) / SS, y + (j + 0.5) / SS
            # rounded square of radius 6
            dx = max(abs(px - 16) - 10, 0); dy = max(abs(py - 16) - 10, 0)
            if math.hypot(dx, dy) > 6:
                continue
            r = math.hypot(px - 16, py - 16)
            white = 9.5 <= r <= 11.5 or (abs(px - 16) <= 1.2 and 11 <= py <= 21) or (abs(py - 13) <= 1.0 and 12 <= px <= 20)
            c = (255, 255, 255) if white else RED
            for k in range(3):
                acc[k] += c[k]
            acc[3] += 255
    n = SS * SS
    a = acc[3] / n
    if a == 0:
        return (0, 0, 0, 0)
    return tuple(int(round(acc[k] / (acc[3] / 255))) for k in range(3)) + (int(round(a)),)

def png():
    raw = b"".join(b"\0" + b"".join(bytes(coverage(x, y)) for x in range(N)) for y in range(N))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

data = png()
ico = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", N, N, 0, 0, 1, 32, len(data), 22) + data
sys.stdout.buffer.write(ico)
