#!/usr/bin/env python3
"""Draws the app icons once (static/icons/app-*.png); run again only to change them.

Standard library only: a teal square with a white speech bubble and three dots. "any" icons
have rounded corners; the maskable one fills the square and keeps the glyph inside the
central 80 % safe zone. Each pixel is supersampled 4x4 for smooth edges.
"""
import struct
import sys
import zlib
from pathlib import Path

BG = (0x1F, 0x7A, 0x6D)
FG = (0xFF, 0xFF, 0xFF)
DOT = (0x1F, 0x7A, 0x6D)


def rrect(x, y, x0, y0, x1, y1, r):
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def tail(x, y):
    # A triangle under the bubble's lower left: (0.30,0.66) (0.44,0.66) (0.28,0.80).
    ax, ay, bx, by, cx, cy = 0.30, 0.64, 0.46, 0.64, 0.27, 0.80
    d = (by - cy) * (ax - cx) + (cx - bx) * (ay - cy)
    l1 = ((by - cy) * (x - cx) + (cx - bx) * (y - cy)) / d
    l2 = ((cy - ay) * (x - cx) + (ax - cx) * (y - cy)) / d
    return l1 >= 0 and l2 >= 0 and l1 + l2 <= 1


def colour(x, y, maskable):
    """Colour at (x, y) in [0,1]², or None for transparent."""
    if maskable:
        # Shrink the glyph into the safe zone (a circle of radius 0.4 about the centre).
        gx, gy = (x - 0.5) / 0.78 + 0.5, (y - 0.5) / 0.78 + 0.5
    else:
        if not rrect(x, y, 0.0, 0.0, 1.0, 1.0, 0.22):
            return None
        gx, gy = x, y
    if rrect(gx, gy, 0.20, 0.24, 0.80, 0.66, 0.12) or tail(gx, gy):
        for cx in (0.36, 0.50, 0.64):
            if (gx - cx) ** 2 + (gy - 0.45) ** 2 <= 0.045 ** 2:
                return DOT
        return FG
    return BG


def png(size, maskable):
    rows = []
    n = 4
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = colour((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, maskable)
                    if c is not None:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            k = n * n
            a = acc[3] // k
            if a:
                cov = acc[3] // 255
                row += bytes([acc[0] // cov, acc[1] // cov, acc[2] // cov, a])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "static/icons")
    for size in (192, 512):
        (out / f"app-{size}.png").write_bytes(png(size, False))
        (out / f"app-maskable-{size}.png").write_bytes(png(size, True))


if __name__ == "__main__":
    main()
