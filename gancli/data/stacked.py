"""Stacked digits, the stacked-MNIST protocol of VEEGAN and PacGAN on the built-in digits: three independently
drawn digits as the 3 channels of one image, so the data has 10 x 10 x 10 = 1,000 equally likely modes."""

import torch

from ..components import DataBundle, DataSpec
from .digits import load_digits

CHANNELS = 3


def load_stacked_digits(size: int, n: int, seed: int) -> DataBundle:
    """``n`` images (n, 3, size, size) drawn once from ``seed``; label = 100 * first + 10 * second + third digit."""
    digits = load_digits(size)
    gen = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(digits.x), (n, CHANNELS), generator=gen)
    x = digits.x[picks].squeeze(2)  # (n, 3, 1, H, W) -> (n, 3, H, W)
    labels = digits.labels[picks] @ torch.tensor([100, 10, 1])
    spec = DataSpec(kind="image", shape=(CHANNELS, size, size), class_names=tuple(f"{i:03d}" for i in range(1000)))
    return DataBundle(x=x, spec=spec, labels=labels)

