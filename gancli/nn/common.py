"""Pieces shared by the built-in networks."""

import torch
from torch import nn


def dcgan_init(module: nn.Module) -> None:
    """The course's (and DCGAN paper's) initialisation: weights ~ N(0, 0.02), norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def one_hot(labels: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """One-hot float vectors of ``like``'s dtype and device."""
    return torch.nn.functional.one_hot(labels, num_classes).to(dtype=like.dtype, device=like.device)


def norm2d(kind: str, channels: int) -> nn.Module:
    """A 2-D normalisation layer by name: batch, layer (per sample, over C,H,W) or none."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def check_labels(labels, num_classes: int) -> None:
    """Conditional models need labels; unconditional ones must not silently ignore them."""
    if num_classes and labels is None:
        raise ValueError(f"this model is conditional on {num_classes} classes: pass labels")
