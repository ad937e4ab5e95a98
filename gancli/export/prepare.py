"""Turn a trained generator into the module the exporters take: parametrizations baked in, fixed inputs.

A generator with a W space (see gancli.latents) is exported as one of three graphs, named by ``info.graph``:
"generator" (``z [, label], psi -> image``: mapping, truncation towards ``w_avg`` on the first ``cutoff`` layers,
synthesis), "synthesis" (``ws -> image``) or "mapping" (``z [, label] -> w``). psi is a float32 scalar: shape ().
The per-layer noise is the stored one (``noise="const"``), so the same inputs always draw the same image.
"""

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


class StyleGenerator(nn.Module):
    """``forward(z, [label,] psi)``: mapping, one w per layer, ``w_avg + psi (w - w_avg)`` on the first
    ``cutoff`` layers (all when None), synthesis. The formula is gancli.latents' truncation, with psi a tensor."""

    def __init__(self, G: nn.Module, num_ws: int, cutoff: int | None):
        super().__init__()
        self.G, self.num_ws = G, int(num_ws)
        mask = None if cutoff is None else (torch.arange(self.num_ws) < cutoff).view(1, -1, 1)
        self.register_buffer("truncated_layers", mask, persistent=False)

    def images(self, z, label, psi):
        w = self.G.mapping(z, label)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        w_avg = self.G.w_avg.to(ws.dtype)
        truncated = w_avg + psi * (ws - w_avg)
        if self.truncated_layers is not None:
            truncated = torch.where(self.truncated_layers, truncated, ws)
        return self.G.synthesis(truncated, noise="const")


class UnconditionalStyleGenerator(StyleGenerator):
    def forward(self, z, psi):
        return self.images(z, None, psi)


class ConditionalStyleGenerator(StyleGenerator):
    def forward(self, z, label, psi):
        return self.images(z, label, psi)


class Synthesis(nn.Module):
    """``forward(ws)``: the synthesis network alone, ws of shape (N, num_ws, w_dim)."""

    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, ws):
        return self.G.synthesis(ws, noise="const")


class UnconditionalMapping(nn.Module):
    """``forward(z) -> w`` (N, w_dim): the mapping network alone."""

    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, z):
        return self.G.mapping(z, None)


class ConditionalMapping(UnconditionalMapping):
    def forward(self, z, label):
        return self.G.mapping(z, label)


def exportable(G: nn.Module, info: GeneratorInfo) -> nn.Module:
    """The baked generator behind the exported signature of ``info.graph``, in eval mode."""
    G = bake(G)
    if not info.has_w:
        wrapper = ConditionalGenerator if info.num_classes else UnconditionalGenerator
        return wrapper(G).eval()
    if info.graph == "synthesis":
        return Synthesis(G).eval()
    if info.graph == "mapping":
        return (ConditionalMapping if info.num_classes else UnconditionalMapping)(G).eval()
    style = ConditionalStyleGenerator if info.num_classes else UnconditionalStyleGenerator
    return style(G, info.num_ws, info.truncation_cutoff).eval()


EXAMPLE_PSI = 0.7  # any value: psi is a graph input, never specialised on


def example_inputs(info: GeneratorInfo, batch: int = 2) -> tuple:
    if info.graph == "synthesis":
        return (torch.randn(batch, info.num_ws, info.w_dim, generator=torch.Generator().manual_seed(0)),)
    z = torch.randn(batch, info.z_dim, generator=torch.Generator().manual_seed(0))
    inputs = (z, torch.arange(batch, dtype=torch.int64) % info.num_classes) if info.num_classes else (z,)
    if "psi" in info.input_names:
        inputs += (torch.tensor(EXAMPLE_PSI),)
    return inputs


def dynamic_batch(info: GeneratorInfo) -> dict:
    """dynamic_shapes for torch.export: every input but psi (a scalar) shares one free batch dimension."""
    batch = torch.export.Dim("batch")
    return {name: None if name == "psi" else {0: batch} for name in info.input_names}
