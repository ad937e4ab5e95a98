"""Pieces shared by the built-in networks."""

import math

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


def xavier_init(module: nn.Module) -> None:
    """SNGAN's initialisation: Xavier-uniform weights, gain sqrt(2) inside residual branches (``m.residual``
    set by the block), gain 1 elsewhere; zero biases; norm layers keep scale 1, shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight, math.sqrt(2.0) if getattr(m, "residual", False) else 1.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def one_hot(labels: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """Class vectors of ``like``'s dtype and device.

    ``labels`` is either int64 class indices (N,), turned into one-hot rows, or a float tensor
    (N, num_classes) of class weights used as they are (soft labels: interpolating between classes).
    """
    if labels.is_floating_point():
        if labels.dim() != 2 or labels.shape[1] != num_classes:
            raise ValueError(f"soft labels must have shape (N, {num_classes}), got {tuple(labels.shape)}")
        return labels.to(dtype=like.dtype, device=like.device)
    return torch.nn.functional.one_hot(labels, num_classes).to(dtype=like.dtype, device=like.device)


def class_maps(x: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The course's conditional discriminator input: x with the class vector broadcast as extra channels."""
    maps = one_hot(labels, num_classes, x)[:, :, None, None].expand(-1, -1, *x.shape[2:])
    return torch.cat([x, maps], dim=1)


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


class Projection(nn.Module):
    """The class term of a projection discriminator (Miyato & Koyama 2018): <embed(y), h> per sample.

    The embedding is a bias-free Linear on the class vector, so it equals an embedding lookup for
    integer labels and stays defined for soft labels (a weighted mix of the class embeddings), and
    spectral norm wraps it like any other weight layer.
    """

    def __init__(self, num_classes: int, features: int):
        super().__init__()
        self.num_classes = num_classes
        self.embed = nn.Linear(num_classes, features, bias=False)

    def forward(self, h: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (self.embed(one_hot(labels, self.num_classes, h)) * h).sum(dim=1)
