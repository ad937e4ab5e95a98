"""The 2-D Gaussian mixtures of the PacGAN mode-coverage protocol: 8 on a ring, 25 on a grid."""

import math

import torch

from ..components import DataBundle, DataSpec


def ring_centres() -> torch.Tensor:
    """8 centres (cos 2*pi*k/8, sin 2*pi*k/8) on the unit circle."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return torch.stack([angles.cos(), angles.sin()], dim=1).float()


def grid_centres() -> torch.Tensor:
    """25 centres (i, j) for i, j in {-4, -2, 0, 2, 4}."""
    axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    return torch.cartesian_prod(axis, axis)


def sample_mixture(centres: torch.Tensor, std: float, n: int, seed: int) -> DataBundle:
    """``n`` points drawn once from the seed: a uniformly chosen centre plus N(0, std^2) noise.

    The label of each point is the index of the centre it was drawn from.
    """
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(len(centres), (n,), generator=gen)
    points = centres[labels] + std * torch.randn(n, 2, generator=gen)
    spec = DataSpec(kind="points", shape=(2,), class_names=tuple(f"mode-{i}" for i in range(len(centres))))
    return DataBundle(x=points, spec=spec, labels=labels)
