"""The chosen augmentation components, applied in order to every batch the discriminator sees."""

from __future__ import annotations

import torch


class AugmentPipeline:
    """Augmentations applied in order at probability ``p``, each drawing its random choices for the global batch.

    ``shard`` keeps this process's slice of a global batch (``World.shard``): under torchrun every rank draws the
    choices of the whole global batch from the shared random stream, as it does for noise, and keeps its slice, so
    the ranks' random states stay equal and the augmented batch is the one a single process would make.
    """

    def __init__(self, augmentations: list, shard=None, world_size: int = 1):
        self.augmentations = augmentations
        self.shard = shard or (lambda batch: batch)
        self.world_size = world_size

    def __bool__(self) -> bool:
        return bool(self.augmentations)

    def __call__(self, x: torch.Tensor, p) -> torch.Tensor:
        n = x.shape[0] * self.world_size
        for augmentation in self.augmentations:
            params = augmentation.draw(n, p, tuple(x.shape[1:]), x.device)
            x = augmentation.apply(x, {key: self.shard(value) for key, value in params.items()})
        return x
