"""What a diagnostic sees of a training run: the step's outputs, the networks in eval mode, seeded noise, the data.

Diagnostics must not change training. Everything here runs under ``torch.no_grad`` with the networks in eval
mode (no BatchNorm statistics or spectral-norm vectors move), and its randomness comes from generators seeded
by the run's seed, the diagnostic and the step, never from torch's global stream: a run trains to the same
weights with diagnostics on or off, and a resumed run draws the same noise as a straight one.
"""

from __future__ import annotations

import functools
import os
import zlib

import torch


class Context:
    """The run as a diagnostic sees it (built by the trainer; one per run).

    - ``step``: the generator step just taken; ``config`` the run's TrainConfig; ``spec`` its DataSpec;
      ``data_name`` and ``data_options`` its dataset; ``loss_name`` and ``loss_output`` ("logit" or "critic").
    - ``outputs``: D's outputs of this step, detached: ``real`` and ``fake`` (the last discriminator step's
      batches), ``g_fake`` (the generator step's fakes, what G's loss saw). ``losses``: the step's ``d_loss``,
      ``g_loss``... (floats, averaged over processes).
    - ``generator_parameters()``: G's parameters, holding this generator step's gradients.
    - ``noise(n, salt, step=None)``, ``class_labels(n)``, ``generate(z, labels)``, ``score(x, labels)``,
      ``real_sample(n, salt)``: seeded latents, G's samples and D's scores in eval mode, a fixed real subset.
    - ``classifier``: gancli's classifier of this dataset where one is cached (never trained here), or None;
      ``modes``: (centres, std) where the dataset knows its modes; ``holdout``: images training never sees,
      where the dataset has a separate split (None otherwise).
    """

    def __init__(self, trainer):
        plan = trainer.plan
        self._trainer = trainer
        self.step = trainer.step
        self.config, self.spec, self.device = plan.config, trainer.spec, trainer.device
        self.data_name, self.data_options = plan.data.entry.name, dict(plan.data.options)
        self.loss_name, self.loss_output = plan.loss.entry.name, trainer.loss.output
        self.num_classes = trainer.num_classes  # conditioning classes (0: unconditional)
        self.outputs: dict = {}
        self.losses: dict = {}
        self._dataset = plan.data.build()

    # ---- the networks -------------------------------------------------------------------------------
    def generator_parameters(self):
        return self._trainer.G.parameters()

    def noise(self, n: int, salt: str, step: int | None = None) -> torch.Tensor:
        """``n`` latents drawn from a generator seeded by the run's seed, ``salt`` and ``step`` (fixed without)."""
        gen = torch.Generator().manual_seed(self.seed(salt, step))
        return torch.randn(n, self.config.z_dim, generator=gen).to(self.device)

    def seed(self, salt: str, step: int | None = None) -> int:
        return zlib.crc32(f"{self.config.seed}:{salt}:{step}".encode())

    def class_labels(self, n: int):
        """Labels cycling through the classes for a conditional generator (None for an unconditional one)."""
        return (torch.arange(n) % self.num_classes).to(self.device) if self.num_classes else None

    @torch.no_grad()
    def generate(self, z, labels=None) -> torch.Tensor:
        """G's samples in eval mode, as the sample grids are drawn (float32, on the device)."""
        G = self._trainer.G
        G.eval()
        try:
            return G(z, labels).float()
        finally:
            G.train()

    @torch.no_grad()
    def score(self, x, labels=None) -> torch.Tensor:
        """D's raw scores in eval mode: no BatchNorm statistics or spectral-norm vectors move. Under --pack k,
        ``x`` holds a multiple of k samples and there is one score per k."""
        D = self._trainer.D
        D.eval()
        try:
            return D(x, labels).float()
        finally:
            D.train()

    # ---- the data -----------------------------------------------------------------------------------
    @property
    def x(self) -> torch.Tensor:
        """The training data on the device."""
        return self._trainer.x

    @property
    def data_labels(self):
        """The training data's class labels (CPU), or None."""
        return self._trainer.data.labels

    def real_sample(self, n: int, salt: str):
        """(images, labels or None) of ``n`` training images chosen once by the seed and ``salt``."""
        gen = torch.Generator().manual_seed(self.seed(salt))
        idx = torch.randperm(len(self.x), generator=gen)[:n]
        labels = self._trainer.labels[idx.to(self.device)] if self._trainer.labels is not None else None
        return self.x[idx.to(self.device)], labels

    @functools.cached_property
    def modes(self):
        """(centres, std) of a mixture that knows its modes (ring, grid), else None."""
        return self._from_dataset("modes")

    @functools.cached_property
    def holdout(self):
        """A DataBundle of images the run never trains on (the dataset's other split), or None."""
        return self._from_dataset("holdout")

    @functools.cached_property
    def classifier(self):
        """gancli's classifier of this dataset if one is cached (``gancli evaluate`` caches it), else None."""
        return cached_classifier(self.data_name, self.data_options, self._dataset, self._trainer.data)

    def _from_dataset(self, method: str):
        """What the dataset's optional ``method`` gives (None when it has none)."""
        find = getattr(self._dataset, method, None)
        return find() if find else None


def cached_classifier(data_name: str, data_options: dict, dataset, bundle):
    """The classifier ``gancli evaluate`` would use for this data, if its cache file exists; None otherwise.

    Training one would cost a run minutes it did not ask for, so diagnostics only look."""
    from ..classifiers.store import cache_path, load_classifier
    from ..classifiers.train import TrainSettings
    from ..errors import GancliError
    from ..metrics.extractors import classifier_key

    if bundle.labels is None or bundle.spec.num_classes < 2 or getattr(dataset, "channel_source", None):
        return None
    key = classifier_key(data_name, data_options, bundle)
    for settings in (TrainSettings(), TrainSettings(robust=True)):
        path = cache_path(key, settings)
        if os.path.isfile(path):
            try:
                return load_classifier(path)
            except (GancliError, KeyError, TypeError):
                continue
    return None
