"""Training-time additions around any architecture's networks: PacGAN packing, a generator EMA, and the routing
that sends a generator regulariser's calls through the training wrapper (DDP)."""

from __future__ import annotations

import copy
import functools

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
    by the random initialisation. Buffers (BatchNorm statistics) are copied, not averaged. A scheduled EMA
    (``--schedule ema=...``) has its decay set before every step and no ramp: its half-life starts small instead.
    """

    def __init__(self, generator: nn.Module, decay: float, ramp: bool = True):
        self.decay, self.ramp = decay, ramp
        self.model = copy.deepcopy(generator).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates)) if self.ramp else self.decay
        averaged = list(self.model.parameters())
        torch._foreach_lerp_(averaged, [p.detach() for p in generator.parameters()], 1 - decay)
        for mine, theirs in zip(self.model.buffers(), generator.buffers()):
            mine.copy_(theirs)
        self.updates += 1


class GeneratorCalls(nn.Module):
    """``forward(*args, method="forward")`` is ``G.<method>(*args)``: one module whose forward reaches the
    generator's ``mapping`` and ``synthesis`` too, so that wrapped in DistributedDataParallel every call a
    generator regulariser makes goes through DDP's forward, as ``G(z, labels)`` does. Its state is G's."""

    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, *args, method: str = "forward", **kwargs):
        return self.G(*args, **kwargs) if method == "forward" else getattr(self.G, method)(*args, **kwargs)


class RoutedGenerator:
    """The generator as regularisers see it: G's attributes (``num_ws``, ``w_dim``, ``w_avg``...), with every call
    (``G(z, labels)``, ``mapping``, ``synthesis``) made through ``calls``, the training module around a
    :class:`GeneratorCalls`. A method G lacks is lacking here too, so ``gancli.latents`` sees the same spaces."""

    ROUTED = ("mapping", "synthesis")

    def __init__(self, calls, G: nn.Module):
        self._calls, self._G = calls, G

    def __call__(self, *args, **kwargs):
        return self._calls(*args, **kwargs)

    def __getattr__(self, name):
        if name in ("_calls", "_G"):  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        value = getattr(self._G, name)  # AttributeError where G has no such attribute
        if name in self.ROUTED and callable(value):
            return functools.partial(self._calls, method=name)
        return value
