"""Training-time additions around any architecture's networks: PacGAN packing and a generator EMA."""

from __future__ import annotations

import copy

import torch
from torch import nn


class PackedDiscriminator(nn.Module):
    """PacGAN (Lin et al. 2018): the wrapped discriminator sees ``pack`` samples at once.

    Consecutive samples are concatenated along the channel (or feature) axis, so a batch of N gives N / pack
    scores. The inner discriminator was built for the packed shape (pack * C, H, W) or (pack * D,).
    """

    def __init__(self, inner: nn.Module, pack: int):
        super().__init__()
        self.inner, self.pack = inner, pack

    def forward(self, x, labels=None):
        n = x.shape[0]
        return self.inner(x.reshape(n // self.pack, self.pack * x.shape[1], *x.shape[2:]), labels)


def packed_shape(shape: tuple, pack: int) -> tuple:
    return (shape[0] * pack, *shape[1:])


class GeneratorEMA:
    """An exponential moving average of a generator's weights, used for sampling (Karras et al., Yazici et al.).

    The decay ramps up as min(decay, (1 + t) / (10 + t)) over updates t, so early averages are not dominated
    by the random initialisation. Buffers (BatchNorm statistics) are copied, not averaged.
    """

    def __init__(self, generator: nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(generator).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        averaged = list(self.model.parameters())
        torch._foreach_lerp_(averaged, [p.detach() for p in generator.parameters()], 1 - decay)
        for mine, theirs in zip(self.model.buffers(), generator.buffers()):
            mine.copy_(theirs)
        self.updates += 1
