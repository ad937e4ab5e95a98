"""Drawing samples with numpy and Pillow: image grids and 2-D scatter plots as PNG, raw arrays as .npy.

The trainer and ``gancli sample`` reach this code through gancli.engine.images (which converts tensors);
``gancli generate`` calls it directly, without torch.
"""

from __future__ import annotations

import math
import os

import numpy as np


def to_uint8(images) -> np.ndarray:
    """(N, C, H, W) array in [-1, 1] -> (N, H, W, C) uint8."""
    # NaNs of a diverged generator draw as mid-grey rather than warning on every grid
    values = np.nan_to_num(np.asarray(images, dtype=np.float32), nan=0.0)
    pixels = ((np.clip(values, -1, 1) + 1) * np.float32(127.5)).round().astype(np.uint8)
    return pixels.transpose(0, 2, 3, 1)


def grid_image(images, nrow: int | None = None, padding: int = 2, min_cell: int = 56):
    """A PIL image of the samples in a grid; small images are enlarged (nearest) so digits stay legible."""
    from PIL import Image

    pixels = to_uint8(images)
    n, h, w, c = pixels.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol_rows = math.ceil(n / nrow)
    scale = max(1, math.ceil(min_cell / max(h, w)))
    h, w = h * scale, w * scale
    canvas = np.full((ncol_rows * (h + padding) + padding, nrow * (w + padding) + padding, c), 255, np.uint8)
    for i, tile in enumerate(pixels):
        if scale > 1:
            tile = tile.repeat(scale, axis=0).repeat(scale, axis=1)
        r, col = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        canvas[y:y + h, x:x + w] = tile
    return Image.fromarray(canvas[..., 0] if c == 1 else canvas)


def points_image(points, reference=None, size: int = 480):
    """A PIL scatter plot of (N, 2) points (blue) over reference points such as real data (grey)."""
    from PIL import Image, ImageDraw

    xy = np.asarray(points, dtype=np.float32)
    ref = None if reference is None else np.asarray(reference, dtype=np.float32)
    both = xy if ref is None else np.concatenate([xy, ref])
    finite = both[np.isfinite(both).all(axis=1)]
    span = float(np.abs(finite).max()) * 1.1 if len(finite) else 1.0
    span = max(span, 1e-6)
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)

    def to_px(p):
        return (p[0] / span + 1) * size / 2, (1 - p[1] / span) * size / 2

    layers = [] if ref is None else [(ref, (190, 190, 190))]
    for cloud, colour in layers + [(xy, (30, 80, 200))]:
        for p in cloud[np.isfinite(cloud).all(axis=1)]:
            x, y = to_px(p)
            draw.rectangle([x - 1, y - 1, x + 1, y + 1], fill=colour)
    return image


def save_samples(samples, path: str, kind: str, reference=None, nrow: int | None = None) -> None:
    """Write samples as a PNG picture (grid or scatter) or, for .npy, the raw float32 array."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if path.lower().endswith(".npy"):
        np.save(path, np.asarray(samples, dtype=np.float32))
        return
    image = points_image(samples, reference) if kind == "points" else grid_image(samples, nrow)
    image.save(path)
