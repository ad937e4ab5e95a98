"""Balancing attribute combinations by reweighting, so a multi-label classifier cannot learn the data's
attribute correlations.

A classifier trained on faces where an open mouth comes with 80% of smiles learns to read an open mouth partly
from the smile (and the other way round): where the mouth is unclear, the smile is evidence. An editor that
climbs such a classifier is blind to the smile edit opening the mouth. Under per-sample weights that make the
attributes independent, a smile carries no evidence about the mouth, and the best classifier ignores it.

The weights (:func:`balance_weights`) are the **entropy balancing** solution of the pairwise moments
(Hainmueller 2012): of all weightings of the training images, the one closest to uniform (least Kullback-
Leibler divergence) under which every attribute keeps its frequency and every pair of attributes is
independent, ``E_w[x_a x_b] = E[x_a] E[x_b]``. For binary attributes that fixes each pair's 2x2 table to the
product of its margins, so it is the same solution as raking (iterative proportional fitting) of all pairwise
tables. It has the form ``w_i ∝ exp(x_iᵀ Θ x_i)`` (one parameter per attribute and per pair), found by
minimising the convex dual ``log Σ_i exp(x_iᵀ Θ x_i) − ⟨Θ, T⟩`` with L-BFGS: each evaluation costs one
(N, A) x (A, A) product, so 40 CelebA attributes (820 parameters) on 160,000 images take seconds.

Why pairwise, not the full joint: the joint cells are 2^A, and on CelebA (A = 40) almost every image has a
combination of its own, so cell-count weights would be 1 / (a count of one) — noise. Pairwise tables are
well filled and are what an edit's drift measures (one attribute against another). Higher-order interactions
are left as the data has them.

Why the margins are kept, not made 50/50: a rare attribute (2% bald) made fair would weigh each of its images
25 times, so a handful of images would dominate training (the effective sample size collapses) and the
classifier's probabilities would stop meaning frequencies. Independence is what editing needs; the margins are
not an entanglement.

A pair with an empty cell (no bald faces with bangs) cannot be made independent by any weights; it is left
out (counted in ``impossible_pairs``). A pair with a nearly empty cell can, but only by weighing its few
images enormously: the weights are capped at ``max_weight`` times their mean (the rest rescaled to keep the
mean 1), which leaves some correlation and shifts the margins a little. What remains is reported
(:class:`Balance`: the largest absolute pairwise correlation before and after, the margins' shift, the
effective sample size) and saved with the classifier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

METHOD = "pairwise entropy balancing (raking of the pairwise tables), margins kept"


@dataclass
class Balance:
    """What reweighting did: ``max_abs_correlation`` of any attribute pair before and after (weighted),
    the largest change of an attribute's frequency (0 unless weights were clipped), the effective sample size
    (Σw)²/Σw² as a fraction of N, the largest weight (weights have mean 1), how many weights were clipped and
    the solver's iterations, and the pairs that could not be balanced because one of their four
    combinations never occurs."""

    method: str
    max_abs_correlation_before: float
    max_abs_correlation_after: float
    max_margin_shift: float
    effective_sample_fraction: float
    max_weight: float
    clipped: int
    iterations: int
    impossible_pairs: int = 0  # pairs with an empty cell, left as they are

    def as_json(self) -> dict:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def weighted_correlation(attributes: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """(A, A) Pearson correlations of 0/1 attributes under per-sample ``weights`` (uniform when None); the
    correlation of a constant attribute with anything is 0."""
    x = attributes.double()
    w = torch.ones(len(x), dtype=torch.float64) if weights is None else weights.double()
    w = w / w.sum()
    mean = w @ x
    centred = x - mean
    cov = centred.T @ (w[:, None] * centred)
    std = cov.diagonal().clamp_min(0).sqrt()
    scale = std[:, None] * std[None, :]
    corr = torch.where(scale > 1e-12, cov / scale.clamp_min(1e-300), torch.zeros_like(cov))
    corr.fill_diagonal_(1.0)
    return corr


def _max_off_diagonal(corr: torch.Tensor) -> float:
    if len(corr) < 2:
        return 0.0
    mask = ~torch.eye(len(corr), dtype=torch.bool)
    return float(corr[mask].abs().max())


def balance_weights(attributes: torch.Tensor, max_weight: float = 20.0, ridge: float = 1e-6,
                    iterations: int = 200, tolerance: float = 1e-9) -> tuple[torch.Tensor, Balance]:
    """(weights (N,) float32 of mean 1, :class:`Balance`) that make the 0/1 ``attributes`` (N, A) pairwise
    independent with their frequencies kept (see the module docstring). Deterministic."""
    x = (attributes > 0.5).double()
    n, a = x.shape
    before = _max_off_diagonal(weighted_correlation(x))
    if n == 0 or a < 2:
        weights = torch.ones(n)
        return weights, Balance(METHOD, before, before, 0.0, 1.0, 1.0, 0, 0)
    mean = x.mean(0)
    target = torch.outer(mean, mean)
    target.diagonal().copy_(mean)  # x_a² = x_a: the diagonal holds the margins
    # One parameter per attribute (the diagonal) and per pair that can be made independent: a pair with an
    # empty cell (never seen together, or never apart) cannot, and its parameter would run off to infinity.
    both = x.T @ x
    cells = torch.stack([both, mean[:, None] * n - both, mean[None, :] * n - both, n - mean[:, None] * n
                         - mean[None, :] * n + both])
    varying = (mean > 0) & (mean < 1)
    upper = torch.triu((cells > 0.5).all(0), 1) & varying[:, None] & varying[None, :]
    upper |= torch.diag(varying)
    if not bool(upper.any()):  # every attribute constant: nothing to balance
        return torch.ones(n), Balance(METHOD, before, before, 0.0, 1.0, 1.0, 0, 0)
    theta = torch.zeros(int(upper.sum()), dtype=torch.float64, requires_grad=True)
    # Centring the statistics (x x^T - T) leaves the dual's minimiser unchanged and keeps exp() well scaled.
    log_n = torch.log(torch.tensor(float(n), dtype=torch.float64))

    def dual():
        big = torch.zeros(a, a, dtype=torch.float64)
        big = big.masked_scatter(upper, theta)
        shifted = (x @ big * x).sum(1) - (big * target).sum()
        return torch.logsumexp(shifted, 0) - log_n + 0.5 * ridge * (theta ** 2).sum()

    optimizer = torch.optim.LBFGS([theta], lr=1, max_iter=iterations, tolerance_grad=tolerance,
                                  tolerance_change=1e-14, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        value = dual()
        value.backward()
        return value

    optimizer.step(closure)
    if not torch.isfinite(theta).all():  # should not happen with feasible pairs; keep the data as it is
        theta = torch.zeros_like(theta)
    steps = int(optimizer.state[theta].get("n_iter", 0))
    with torch.no_grad():
        big = torch.zeros(a, a, dtype=torch.float64).masked_scatter(upper, theta.detach())
        log_w = (x @ big * x).sum(1)
        weights = torch.exp(log_w - log_w.max())
        weights = weights / weights.mean()
        clipped = int((weights > max_weight).sum())
        weights = _clip(weights, max_weight)
    after = _max_off_diagonal(weighted_correlation(x, weights))
    shift = float(((weights[:, None] * x).mean(0) - mean).abs().max())
    ess = float(weights.sum() ** 2 / (weights ** 2).sum()) / n
    unbalanced = int((~upper).triu(1).logical_and(varying[:, None] & varying[None, :]).sum())
    return weights.float(), Balance(METHOD, before, after, shift, ess, float(weights.max()), clipped, steps,
                                    unbalanced)


def _clip(weights: torch.Tensor, max_weight: float) -> torch.Tensor:
    """``min(c w, max_weight)`` with c chosen (by bisection) so that the mean is 1: the largest weights are
    capped and the rest keep their ratios."""
    weights = weights / weights.mean()
    if max_weight <= 1:
        return torch.ones_like(weights)
    if float(weights.max()) <= max_weight:
        return weights
    low, high = 0.0, 1.0  # mean(min(c w, M)) grows with c; at c = 1 it is below 1
    while float(torch.clamp(high * weights, max=max_weight).mean()) < 1:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        if float(torch.clamp(mid * weights, max=max_weight).mean()) < 1:
            low = mid
        else:
            high = mid
    return torch.clamp(high * weights, max=max_weight)

