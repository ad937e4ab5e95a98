"""Turn a trained generator into the module the exporters take: parametrizations baked in, fixed inputs."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..runtime.metadata import GeneratorInfo


class UnconditionalGenerator(nn.Module):
    """``forward(z)``: the exported signature of a generator without classes."""

    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G(z)


class ConditionalGenerator(nn.Module):
    """``forward(z, label)`` with int64 labels: the exported signature of a conditional generator."""

    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, z, label):
        return self.G(z, label)


def bake(G: nn.Module) -> nn.Module:
    """A copy of ``G`` in eval mode whose parametrizations (spectral norm, weight norm, ...) are replaced by
    the plain weights they compute, so exported graphs hold constants instead of a power iteration."""
    from torch.nn.utils.spectral_norm import SpectralNorm, remove_spectral_norm
    from torch.nn.utils.weight_norm import WeightNorm, remove_weight_norm

    G = copy.deepcopy(G).eval()
    with torch.no_grad():
        for module in G.modules():
            if parametrize.is_parametrized(module):
                # a parametrized module's class is made for it and shared with its deep copy; removing the
                # parametrization deletes a property from that class, so give the copy a class of its own
                cls = module.__class__
                module.__class__ = type(cls)(cls.__name__, cls.__bases__, dict(cls.__dict__))
                for name in list(module.parametrizations):
                    parametrize.remove_parametrizations(module, name, leave_parametrized=True)
            # the older hook-based spectral_norm / weight_norm that many GAN codebases still use
            for hook in list(module._forward_pre_hooks.values()):
                if isinstance(hook, SpectralNorm):
                    remove_spectral_norm(module, hook.name)
                elif isinstance(hook, WeightNorm):
                    remove_weight_norm(module, hook.name)
    return G


def exportable(G: nn.Module, info: GeneratorInfo) -> nn.Module:
    """The baked generator behind the exported signature, in eval mode."""
    wrapper = ConditionalGenerator if info.num_classes else UnconditionalGenerator
    return wrapper(bake(G)).eval()


def example_inputs(info: GeneratorInfo, batch: int = 2) -> tuple:
    z = torch.randn(batch, info.z_dim, generator=torch.Generator().manual_seed(0))
    if info.num_classes:
        return z, torch.arange(batch, dtype=torch.int64) % info.num_classes
    return (z,)


def dynamic_batch(info: GeneratorInfo) -> dict:
    """dynamic_shapes for torch.export: every input shares one free batch dimension."""
    batch = torch.export.Dim("batch")
    return {name: {0: batch} for name in info.input_names}
