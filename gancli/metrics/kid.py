"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel."""

from __future__ import annotations

import numpy as np


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """k(x, y) = (x . y / d + 1)^3."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def mmd2_unbiased(real: np.ndarray, fake: np.ndarray) -> float:
    """Unbiased estimate of MMD^2 between equal-sized sets (diagonal terms excluded)."""
    m = len(real)
    k_rr, k_ff, k_rf = polynomial_kernel(real, real), polynomial_kernel(fake, fake), polynomial_kernel(real, fake)
    within = (k_rr.sum() - np.trace(k_rr) + k_ff.sum() - np.trace(k_ff)) / (m * (m - 1))
    return float(within - 2 * k_rf.mean())


def kernel_distance(real: np.ndarray, fake: np.ndarray, subsets: int, subset_size: int,
                    seed: int = 0) -> tuple[float, float]:
    """(mean, standard deviation) of the unbiased MMD^2 over ``subsets`` random subsets of ``subset_size``.

    The standard deviation across subsets is the standard error of one ``subset_size``-sample estimate
    (what the KID paper and torch-fidelity report beside the mean).
    """
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    rng = np.random.default_rng(seed)
    values = [mmd2_unbiased(real[rng.choice(len(real), subset_size, replace=False)],
                            fake[rng.choice(len(fake), subset_size, replace=False)]) for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values, ddof=1)) if subsets > 1 else 0.0
