"""Writing samples given as torch tensors; the drawing itself is gancli.runtime.images (numpy only)."""

from __future__ import annotations

import numpy as np

from ..runtime import images as _drawing


def _numpy(tensor) -> np.ndarray | None:
    return None if tensor is None else tensor.detach().float().cpu().numpy()


def to_uint8(images) -> np.ndarray:
    """(N, C, H, W) tensor in [-1, 1] -> (N, H, W, C) uint8."""
    return _drawing.to_uint8(_numpy(images))


def grid_image(images, nrow: int | None = None, padding: int = 2, min_cell: int = 56):
    """A PIL image of the samples in a grid; small images are enlarged (nearest) so digits stay legible."""
    return _drawing.grid_image(_numpy(images), nrow, padding, min_cell)


def points_image(points, reference=None, size: int = 480):
    """A PIL scatter plot of (N, 2) points (blue) over reference points such as real data (grey)."""
    return _drawing.points_image(_numpy(points), _numpy(reference), size)


def save_samples(samples, path: str, kind: str, reference=None, nrow: int | None = None) -> None:
    """Write samples as a PNG picture (grid or scatter) or, for .npy, the raw float array."""
    _drawing.save_samples(_numpy(samples), path, kind, _numpy(reference), nrow)
