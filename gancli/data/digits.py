"""scikit-learn's bundled handwritten digits (1,797 images, 8x8, classes 0-9): no download needed."""

import dataclasses

import torch
import torch.nn.functional as F

from ..components import DataBundle, DataSpec


def load_digits(size: int) -> DataBundle:
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # values 0..16 -> 0..1
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    spec = DataSpec(kind="image", shape=(1, size, size), class_names=tuple(str(i) for i in range(10)))
    return DataBundle(x=x * 2 - 1, spec=spec, labels=labels)


def balanced_subset(bundle: DataBundle, fraction: float, seed: int, complement: bool = False) -> DataBundle:
    """``fraction`` of each class (rounded, at least one image), drawn with ``seed``, in the original order;
    ``complement``: the images that subset leaves out instead."""
    generator = torch.Generator().manual_seed(seed)
    kept = []
    for cls in torch.unique(bundle.labels):
        members = torch.nonzero(bundle.labels == cls).flatten()
        count = max(1, round(fraction * len(members)))
        kept.append(members[torch.randperm(len(members), generator=generator)[:count]])
    keep = torch.cat(kept).sort().values
    if complement:
        mask = torch.ones(len(bundle.labels), dtype=torch.bool)
        mask[keep] = False
        keep = torch.nonzero(mask).flatten()
    return dataclasses.replace(bundle, x=bundle.x[keep], labels=bundle.labels[keep])
