"""Mode coverage: 2-D Gaussian mixtures (PacGAN protocol) and class histograms (stacked digits)."""

from __future__ import annotations

import numpy as np


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(histogram || uniform over its bins), natural log, with 0 log 0 = 0; NaN for an empty histogram."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return float("nan")
    p = counts[counts > 0] / total
    return float((p * np.log(p * len(counts))).sum())


def mixture_scores(points: np.ndarray, centres: np.ndarray, std: float) -> dict:
    """modes, hq (fraction of high-quality points) and kl, as in the PacGAN mode-coverage protocol.

    A point is high quality when its distance to the nearest centre is below 3 std; modes counts the centres
    that are the nearest centre of at least one high-quality point; kl compares the histogram of
    high-quality points over centres with the uniform distribution.
    """
    points, centres = np.asarray(points, np.float64), np.asarray(centres, np.float64)
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(points)), nearest] / std < 3
    counts = np.bincount(nearest[good], minlength=len(centres))
    return {"modes": int((counts > 0).sum()), "hq": float(good.mean()) if len(points) else 0.0,
            "kl": kl_to_uniform(counts)}


def class_coverage(classes: np.ndarray, num_classes: int) -> dict:
    """modes (distinct classes seen) and kl (class histogram against uniform over ``num_classes``)."""
    counts = np.bincount(np.asarray(classes, dtype=np.int64), minlength=num_classes)
    return {"modes": int((counts > 0).sum()), "kl": kl_to_uniform(counts)}
