"""The classifier network and the wrapper that extracts features and predictions from it."""

from __future__ import annotations

import torch
from torch import nn

MULTICLASS = "multiclass"  # one class per image: softmax over classes
MULTILABEL = "multilabel"  # independent yes/no attributes: a sigmoid each


class ConvNet(nn.Module):
    """Three conv+BatchNorm+ReLU stages (two halving the image), global average pooling, then a hidden
    fully connected layer (the features) and the output layer. Works for any image side of 4 or more."""

    def __init__(self, in_channels: int, outputs: int, width: int = 32, feature_dim: int = 128):
        super().__init__()

        def stage(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *stage(in_channels, width), nn.MaxPool2d(2),
            *stage(width, 2 * width), nn.MaxPool2d(2),
            *stage(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(4 * width, feature_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.body(x)))


class Ensemble(nn.Module):
    """Several :class:`ConvNet` of one shape whose logits are averaged. A gradient that fools one network
    rarely fools them all, so edits that climb the average carry over to classifiers it was not trained with."""

    def __init__(self, members: list):
        super().__init__()
        self.members = nn.ModuleList(members)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([member.features(x) for member in self.members], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.member_logits(x).mean(0)

    def member_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(members, N, outputs): each network's logits, before averaging."""
        return torch.stack([member(x) for member in self.members])


class Classifier:
    """A trained :class:`ConvNet` (or :class:`Ensemble` of them) in eval mode with what it was trained for.

    ``info`` holds: ``task`` (multiclass or multilabel), ``names`` (class or attribute names), ``shape``
    (C, H, W) of the images it takes (in [-1, 1]), ``accuracy`` on the held-out split, ``width``,
    ``feature_dim`` (of one network), ``members`` (networks averaged, 1 when absent) and the training details.
    """

    def __init__(self, net: ConvNet, info: dict):
        self.net = net.eval()
        self.info = info

    @property
    def accuracy(self) -> float:
        return float(self.info["accuracy"])

    @property
    def feature_dim(self) -> int:
        return int(self.info["feature_dim"]) * int(self.info.get("members", 1))

    def _batches(self, x: torch.Tensor, fn, batch_size: int) -> torch.Tensor:
        if tuple(x.shape[1:]) != tuple(self.info["shape"]):
            raise ValueError(f"classifier takes images of shape {tuple(self.info['shape'])}, got {tuple(x.shape[1:])}")
        device = next(self.net.parameters()).device
        with torch.inference_mode():
            parts = [fn(x[i:i + batch_size].to(device, torch.float32)).cpu() for i in range(0, len(x), batch_size)]
        return torch.cat(parts) if parts else torch.empty(0)

    def features(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """(N, feature_dim) activations of the penultimate layer."""
        return self._batches(x, self.net.features, batch_size)

    def logits(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        return self._batches(x, self.net, batch_size)

    def probabilities(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """(N, K) class probabilities (softmax) or (N, A) attribute probabilities (sigmoid)."""
        logits = self.logits(x, batch_size)
        return logits.softmax(1) if self.info["task"] == MULTICLASS else logits.sigmoid()

    def differentiable_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of one batch with autograd on, for editing by the gradient of an attribute's score."""
        return self.differentiable_member_logits(x).mean(0)

    def differentiable_member_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(members, N, outputs): :meth:`differentiable_logits` of each network of an ensemble before they are
        averaged (one row for a single network)."""
        if tuple(x.shape[1:]) != tuple(self.info["shape"]):
            raise ValueError(f"classifier takes images of shape {tuple(self.info['shape'])}, got {tuple(x.shape[1:])}")
        if isinstance(self.net, Ensemble):
            return self.net.member_logits(x.float())
        return self.net(x.float()).unsqueeze(0)

    @property
    def names(self) -> list:
        """The class or attribute names, in output order."""
        return list(self.info["names"])

    def predict(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """(N,) int64 class indices, or (N, A) booleans (attribute present) for a multi-label classifier."""
        logits = self.logits(x, batch_size)
        return logits.argmax(1) if self.info["task"] == MULTICLASS else logits > 0
