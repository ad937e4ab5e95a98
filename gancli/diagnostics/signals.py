"""The arithmetic of the built-in signals: small pure functions of tensors, each tested on constructed cases."""

from __future__ import annotations

import torch

SATURATED = 0.01  # sigma(D(G(z))) below this: the flat region of BCE, where minimax G's gradient vanishes


def gradient_norm(parameters) -> float | None:
    """The L2 norm of every gradient of ``parameters`` together (None when none has one)."""
    grads = [p.grad.detach().float() for p in parameters if p.grad is not None]
    if not grads:
        return None
    return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))


def saturation(fake_logits: torch.Tensor, below: float = SATURATED) -> float:
    """The share of generated samples D rejects so surely that sigma(D(G(z))) < ``below``."""
    return float((torch.sigmoid(fake_logits.float()) < below).float().mean())


def sign_statistic(real_out: torch.Tensor) -> float:
    """ADA's overfitting heuristic r_t = E[sign(D(x))] on real images: 0 when D is unsure, 1 when it is sure of
    every real image (Karras et al. 2020)."""
    return float(torch.sign(real_out.float()).mean())


def pairwise_accuracy(real_out: torch.Tensor, fake_out: torch.Tensor) -> float:
    """The share of pairs (x_i, G(z_i)) that D scores the right way round, D(x_i) > D(G(z_i)): 0.5 when the two
    players are even, 1 when D wins every pair. Only the order of scores counts, so it means the same for every
    loss (logit or critic)."""
    n = min(len(real_out), len(fake_out))
    return float((real_out[:n].float() > fake_out[:n].float()).float().mean())


def mean_pairwise_distance(features: torch.Tensor) -> float:
    """The mean Euclidean distance between distinct rows of ``features`` (N, D); 0 when every row is the same."""
    flat = features.reshape(len(features), -1).double()
    return float(torch.pdist(flat).mean()) if len(flat) > 1 else 0.0


def holdout_gap(train_scores: torch.Tensor, holdout_scores: torch.Tensor, fake_scores: torch.Tensor) -> float:
    """Where D puts images it never trained on, between its training images (0) and generated ones (1).

    ADA's sign of overfitting: D's scores on a validation set drift from those on the training set towards those
    on generated images. Dividing by the real-fake gap makes it free of the scale of D's scores."""
    train, held, fake = (float(s.float().mean()) for s in (train_scores, holdout_scores, fake_scores))
    spread = train - fake
    return (train - held) / spread if abs(spread) > 1e-6 else 0.0


def mode_coverage(points: torch.Tensor, centres: torch.Tensor, std: float) -> tuple[float, float]:
    """(share of the mixture's modes with a high-quality point, share of high-quality points): a point is high
    quality within 3 std of its nearest centre, as ``gancli evaluate`` counts modes (the PacGAN protocol)."""
    distances = torch.cdist(points.double(), centres.double())
    nearest, which = distances.min(dim=1)
    good = nearest < 3 * std
    covered = torch.unique(which[good]).numel()
    return covered / len(centres), float(good.double().mean()) if len(points) else 0.0


def class_coverage(classes: torch.Tensor, num_classes: int) -> float:
    """The share of ``num_classes`` classes that appear among ``classes``."""
    return torch.unique(classes).numel() / num_classes if num_classes else 0.0
