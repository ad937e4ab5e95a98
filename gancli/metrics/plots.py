"""Line charts drawn with Pillow (no plotting library needed): loss curves and metrics over training steps."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

PALETTE = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75))
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 20, 36, 46


@dataclass
class Series:
    label: str
    xs: list
    ys: list  # None or non-finite values leave a gap
    colour: tuple = PALETTE[0]
    dashed: bool = False
    markers: bool = False


def nice_ticks(low: float, high: float, count: int = 5) -> list:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high]."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.0e}"
    return f"{value:g}"


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def line_chart(series: list, title: str, x_label: str = "step", size: tuple = (760, 380)) -> Image.Image:
    """A chart of one or more series sharing axes, with a legend when there are several."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(size=15), ImageFont.load_default(size=12)
    draw.text((MARGIN_LEFT, 10), title, fill="black", font=font)
    points = [(x, y) for s in series for x, y in zip(s.xs, s.ys) if _finite(y)]
    left, top, right, bottom = MARGIN_LEFT, MARGIN_TOP, width - MARGIN_RIGHT, height - MARGIN_BOTTOM
    if not points:
        draw.text((left, (top + bottom) // 2), "no data", fill="grey", font=font)
        return image
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    y_lo, y_hi = min(p[1] for p in points), max(p[1] for p in points)
    pad = (y_hi - y_lo) * 0.05 or abs(y_hi) * 0.05 or 1.0
    y_lo, y_hi = y_lo - pad, y_hi + pad
    x_hi = x_hi if x_hi > x_lo else x_lo + 1

    def to_px(x, y):
        return (left + (x - x_lo) / (x_hi - x_lo) * (right - left),
                bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top))

    for tick in nice_ticks(y_lo, y_hi):
        _, py = to_px(x_lo, tick)
        draw.line([(left, py), (right, py)], fill=(232, 232, 232))
        text = _label(tick)
        draw.text((left - 6 - draw.textlength(text, font=small), py - 7), text, fill="black", font=small)
    for tick in nice_ticks(x_lo, x_hi, 6):
        px, _ = to_px(tick, y_lo)
        draw.line([(px, bottom), (px, bottom + 4)], fill="black")
        text = _label(tick)
        draw.text((px - draw.textlength(text, font=small) / 2, bottom + 6), text, fill="black", font=small)
    draw.rectangle([left, top, right, bottom], outline="black")
    draw.text(((left + right) / 2 - draw.textlength(x_label, font=small) / 2, height - 18), x_label,
              fill="black", font=small)

    for s in series:
        for run in _runs(s):
            pixels = [to_px(x, y) for x, y in run]
            if s.dashed:
                _dash_line(draw, pixels, s.colour)
            elif len(pixels) > 1:
                draw.line(pixels, fill=s.colour, width=2)
            if s.markers or len(pixels) == 1:
                for px, py in pixels:
                    draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=s.colour)
    if len(series) > 1:
        _legend(draw, series, right, small)
    return image


def _dash_line(draw, pixels, colour, dash: float = 7.0) -> None:
    """A dashed polyline (or, for a single point, a short dashed horizontal mark)."""
    if len(pixels) == 1:
        (px, py), = pixels
        pixels = [(px - 12, py), (px + 12, py)]
    on, left_over = True, dash
    for (x0, y0), (x1, y1) in zip(pixels, pixels[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while pos < length:
            step = min(left_over, length - pos)
            if on:
                a, b = pos / length, (pos + step) / length
                draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                          fill=colour, width=2)
            pos += step
            left_over -= step
            if left_over <= 0:
                on, left_over = not on, dash


def _runs(series: Series) -> list:
    """Consecutive finite points of a series (gaps where values are missing)."""
    runs, current = [], []
    for x, y in zip(series.xs, series.ys):
        if _finite(y):
            current.append((x, y))
        elif current:
            runs.append(current)
            current = []
    return runs + ([current] if current else [])


def _legend(draw, series, right, font) -> None:
    """One row of keys, right-aligned in the title bar, so it never hides a line."""
    x = right
    for s in reversed(series):
        x -= draw.textlength(s.label, font=font) + 30
        if s.dashed:
            _dash_line(draw, [(x, 17), (x + 22, 17)], s.colour, dash=5.0)
        else:
            draw.line([(x, 17), (x + 22, 17)], fill=s.colour, width=3)
        draw.text((x + 26, 10), s.label, fill="black", font=font)
        x -= 10


def grid(images: list, columns: int = 2) -> Image.Image:
    """Charts side by side, ``columns`` per row."""
    width, height = images[0].size
    rows = math.ceil(len(images) / columns)
    canvas = Image.new("RGB", (width * min(columns, len(images)), height * rows), "white")
    for i, img in enumerate(images):
        canvas.paste(img, ((i % columns) * width, (i // columns) * height))
    return canvas
