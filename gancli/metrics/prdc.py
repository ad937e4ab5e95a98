"""k-nearest-neighbour manifold metrics on features.

Precision and recall: Kynkäänniemi et al. 2019 (k = 3). Density and coverage: Naeem et al. 2020 (k = 5).
Each real sample's ball has the radius of its distance to its k-th nearest real neighbour.
"""

from __future__ import annotations

import numpy as np
import torch


def _distances(a: np.ndarray, b: np.ndarray, chunk: int = 1024):
    """Row chunks (start, (rows, len(b)) Euclidean distance block) in float64, to bound memory."""
    a, b = torch.from_numpy(np.asarray(a, np.float64)), torch.from_numpy(np.asarray(b, np.float64))
    for start in range(0, len(a), chunk):
        yield start, torch.cdist(a[start:start + chunk], b).numpy()


def knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Distance from each sample to its k-th nearest other sample of the same set."""
    if len(features) <= k:
        raise ValueError(f"k-NN radii with k={k} need more than {k} samples, got {len(features)}")
    radii = np.empty(len(features))
    for start, block in _distances(features, features):
        radii[start:start + len(block)] = np.partition(block, k, axis=1)[:, k]  # index 0 is the sample itself
    return radii


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Precision: fraction of fakes inside some real ball. Recall: fraction of reals inside some fake ball."""
    return _inside_any(fake, real, knn_radii(real, k)), _inside_any(real, fake, knn_radii(fake, k))


def _inside_any(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    inside = np.zeros(len(points), dtype=bool)
    for start, block in _distances(points, centres):
        inside[start:start + len(block)] = (block <= radii[None, :]).any(axis=1)
    return float(inside.mean())


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Density: real balls containing each fake, counted, / (k * fakes). Coverage: fraction of real balls
    that contain at least one fake."""
    radii = knn_radii(real, k)
    count, covered = 0, np.zeros(len(real), dtype=bool)
    for _, block in _distances(fake, real):
        inside = block <= radii[None, :]
        count += int(inside.sum())
        covered |= inside.any(axis=0)
    return count / (k * len(fake)), float(covered.mean())
