"""scikit-learn's bundled handwritten digits (1,797 images, 8x8, classes 0-9): no download needed."""

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
