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


def class_coverage(classes: np.ndarray, num_classes: int, factors: tuple = ()) -> dict:
    """modes (distinct classes seen) and kl (class histogram against uniform over ``num_classes``).

    With ``factors`` (the sizes of the parts a class is made of, most significant first, whose product is
    ``num_classes``: (10, 10, 10) for three stacked digits), kl splits exactly into ``kl_parts``, the sum of
    each part's own histogram against uniform (some digits too common in some channel), and ``kl_dependence``,
    the total correlation KL(joint || product of the parts' histograms) (channels not drawn independently):
    the uniform target is itself a product, so kl = kl_parts + kl_dependence.
    """
    counts = np.bincount(np.asarray(classes, dtype=np.int64), minlength=num_classes)
    scores = {"modes": int((counts > 0).sum()), "kl": kl_to_uniform(counts)}
    if factors:
        if int(np.prod(factors)) != num_classes:
            raise ValueError(f"factors {factors} do not multiply to {num_classes} classes")
        joint = counts.reshape(factors).astype(np.float64)
        marginals = [joint.sum(axis=tuple(a for a in range(joint.ndim) if a != axis)) for axis in range(joint.ndim)]
        scores["kl_parts"] = sum(kl_to_uniform(m) for m in marginals)
        scores["kl_dependence"] = _total_correlation(joint, marginals)
    return scores


def _total_correlation(joint: np.ndarray, marginals: list) -> float:
    """KL(joint histogram || product of its ``marginals``), natural log; NaN for an empty histogram."""
    total = joint.sum()
    if total == 0:
        return float("nan")
    product = np.ones_like(joint)
    for axis, marginal in enumerate(marginals):
        product = product * (marginal / total).reshape([-1 if a == axis else 1 for a in range(joint.ndim)])
    p = joint / total
    seen = p > 0
    return float((p[seen] * np.log(p[seen] / product[seen])).sum())


def digit_factors(class_names) -> tuple:
    """(10,) * k when the classes are named by all k-digit decimal strings (stacked digits: "000"-"999"), else ()."""
    names = list(class_names)
    width = len(names[0]) if names else 0
    if width < 2 or len(names) != 10 ** width or sorted(names) != [f"{i:0{width}d}" for i in range(10 ** width)]:
        return ()
    return (10,) * width
