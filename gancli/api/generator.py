"""gancli.load: a trained generator as a handle. Latents of any of its spaces go in, images come out.

Everything that draws goes through the generator's :class:`gancli.latents.LatentSpaces` (``.spaces``), as the
commands do: ``gancli sample`` is :meth:`Generator.sample` (or :meth:`per_class`, :meth:`interpolate`,
:meth:`mix`) written to a file, ``gancli edit`` is :meth:`Generator.edit`. A projection or an explorer stands on
the same handle: ``latents(..., space=)`` / ``decode(latents, space=)`` work in Z, W and W+.
"""

from __future__ import annotations

import numbers
import os

from ..errors import GancliError
from .grid import Grid

DEFAULT_STRENGTHS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
NOT_CONDITIONAL = ("labels, per-class grids and interpolation need a conditional generator; this one was trained "
                   "without --conditional")


def load(target, device: str = "cpu"):
    """A generator handle for a run directory, a generator/checkpoint ``.safetensors`` file,
    ``"pretrained:NAME"`` or an ``.onnx`` export (the last runs on onnxruntime, without torch).

    ``device``: "cpu", "cuda" or "auto" (torch generators only)."""
    target = os.fspath(target)
    if target.lower().endswith(".onnx"):
        from .onnx import OnnxGenerator

        return OnnxGenerator(target)
    from ..engine.models import load_generator
    from ..engine.trainer import pick_device
    from .registry import registry_for_command

    dev = str(pick_device(device))
    G, meta = load_generator(target, device=dev, registry=registry_for_command())
    return Generator(G, meta, target, dev)


class Generator:
    """A loaded generator: ``G`` (the torch module, eval mode), its checkpoint ``meta`` and latent ``spaces``."""

    def __init__(self, G, meta: dict, target: str, device: str = "cpu"):
        from ..latents import LatentSpaces

        self.G, self.meta, self.target, self.device = G, meta, target, device
        self.spaces = LatentSpaces.of(G, meta, device)
        self._context = None

    # ---- what it is --------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """"image" or "points" (2-D toys)."""
        return self.meta["spec"]["kind"]

    @property
    def num_classes(self) -> int:
        """Classes the generator is conditioned on (0: unconditional)."""
        return self.spaces.num_classes

    @property
    def class_names(self) -> list:
        """The dataset's class names, for the labels of a conditional generator."""
        return list(self.meta["spec"].get("class_names", []))

    @property
    def step(self) -> int | None:
        """The training step the weights are from."""
        return self.meta.get("step")

    @property
    def space_names(self) -> tuple:
        """("z",) or ("z", "w", "w+")."""
        return self.spaces.spaces

    def __repr__(self) -> str:
        classes = f", {self.num_classes} classes" if self.num_classes else ""
        return (f"<gancli Generator {self.target}: {self.meta['arch']['name']} at step {self.step}, spaces "
                f"{'/'.join(self.space_names)}{classes}>")

    # ---- latents in, images out --------------------------------------------------------------------
    def labels(self, n: int, labels=None):
        """The class labels of ``n`` samples: None for an unconditional generator; by default the classes in
        turn (as ``gancli sample``); an int for one class; a sequence as given."""
        import torch

        if not self.num_classes:
            if labels is not None:
                raise GancliError(NOT_CONDITIONAL)
            return None
        if labels is None:
            return torch.arange(n) % self.num_classes
        if isinstance(labels, numbers.Integral):
            labels = torch.full((n,), int(labels))
        labels = torch.as_tensor(labels).long().reshape(-1)
        check_classes(labels, self.num_classes, "--label")
        return labels

    def latents(self, n: int = 64, seed: int = 0, space: str = "z", labels=None, truncation: float | None = None,
                cutoff: int | None = None):
        """``n`` latents of ``space`` from the Gaussian z of ``seed`` (mapped, and truncated, into W and W+)."""
        n = self._count(n)
        return self.spaces.sample(n, seed, space, self.labels(n, labels) if space != "z" else None, truncation,
                                  cutoff)

    def decode(self, latents, space: str = "z", labels=None, truncation: float | None = None,
               cutoff: int | None = None):
        """Images in [-1, 1] (a CPU float32 tensor) for latents of ``space``; labels as in :meth:`labels`, for z."""
        import torch

        latents = torch.as_tensor(latents, dtype=torch.float32)
        self.spaces.check_truncation(truncation, cutoff)
        labels = self.labels(len(latents), labels) if space == "z" else None
        return self.spaces.generate(latents, self.spaces.check_space(space), labels, truncation, cutoff)

    def sample(self, n: int = 64, seed: int = 0, labels=None, truncation: float | None = None,
               cutoff: int | None = None):
        """``n`` samples of ``seed``: exactly what ``gancli sample TARGET -n N --seed S -o x.npy`` writes."""
        return self.images(n, seed, labels, truncation, cutoff).tensor

    def images(self, n: int = 64, seed: int = 0, labels=None, truncation: float | None = None,
               cutoff: int | None = None, nrow: int | None = None, mix_seed: int | None = None,
               mix_layers: tuple | None = None) -> Grid:
        """:meth:`sample` as a :class:`Grid` (shown as a picture in Jupyter; ``.image`` is the PIL image,
        ``.tensor`` the samples). ``mix_seed``: see :meth:`mix`."""
        n = self._count(n)
        labels = self.labels(n, labels)
        return self._draw(lambda s: self.spaces.sample_z(n, s), labels, nrow, seed, truncation, cutoff, mix_seed,
                          mix_layers)

    def grid(self, samples, nrow: int | None = None) -> Grid:
        """Samples of this generator (images or points) as a :class:`Grid`."""
        return Grid(samples, self.kind, nrow)

    def per_class(self, n: int = 8, seed: int = 0, truncation: float | None = None, cutoff: int | None = None,
                  mix_seed: int | None = None, mix_layers: tuple | None = None) -> Grid:
        """One row per class, the same ``n`` latents down each column (conditional generators)."""
        import torch

        n, classes = self._count(n), self._classes()
        labels = torch.arange(classes).repeat_interleave(n)
        return self._draw(lambda s: self.spaces.sample_z(n, s).repeat(classes, 1), labels, n, seed, truncation,
                          cutoff, mix_seed, mix_layers)

    def interpolate(self, start: int, end: int, n: int = 8, steps: int = 8, seed: int = 0,
                    truncation: float | None = None, cutoff: int | None = None, mix_seed: int | None = None,
                    mix_layers: tuple | None = None) -> Grid:
        """Class ``start`` morphing into class ``end`` across ``steps`` columns, one row per latent (the one-hot
        class vectors blended; conditional generators)."""
        import torch

        n, classes = self._count(n), self._classes()
        check_classes(torch.tensor([start, end]), classes, "--interpolate")
        if steps < 2:
            raise GancliError(f"--interp-steps must be at least 2, got {steps}")
        weights = torch.linspace(0, 1, steps)
        onehot = torch.eye(classes)
        blends = (1 - weights)[:, None] * onehot[start] + weights[:, None] * onehot[end]
        return self._draw(lambda s: self.spaces.sample_z(n, s).repeat_interleave(steps, 0), blends.repeat(n, 1),
                          steps, seed, truncation, cutoff, mix_seed, mix_layers)

    def mix(self, n: int = 64, seed: int = 0, mix_seed: int = 1, layers: tuple | None = None, labels=None,
            truncation: float | None = None, cutoff: int | None = None) -> Grid:
        """Style mixing: the W+ ``layers`` (start, stop; default the second half, the fine styles) of every
        sample come from the latents of ``mix_seed`` (generators with a W space)."""
        return self.images(n, seed, labels, truncation, cutoff, mix_seed=mix_seed, mix_layers=layers)

    def _draw(self, draw, labels, nrow, seed, truncation, cutoff, mix_seed, mix_layers) -> Grid:
        """The grid of latents ``draw(seed)`` (and, mixing, of ``draw(mix_seed)``) with ``labels``."""
        spaces = self.spaces
        spaces.check_truncation(truncation, cutoff)
        if mix_seed is not None and not spaces.has_w:
            raise GancliError("--mix needs a generator with a W space (a mapping network, such as --arch stylegan2); "
                              "this generator has a Z space only")
        z = draw(seed)
        if mix_seed is None:
            return self.grid(spaces.generate(z, "z", labels, truncation, cutoff), nrow)
        ws, other = (spaces.convert(v, "z", "w+", labels, truncation, cutoff) for v in (z, draw(mix_seed)))
        layers = tuple(mix_layers) if mix_layers else (self.G.num_ws // 2, self.G.num_ws)
        return self.grid(spaces.generate(spaces.mix(ws, other, layers), "w+"), nrow)

    def _count(self, n: int) -> int:
        if n < 1:
            raise GancliError(f"-n must be at least 1, got {n}")
        return n

    def _classes(self) -> int:
        if not self.num_classes:
            raise GancliError(NOT_CONDITIONAL)
        return self.num_classes

    # ---- directions and edits ----------------------------------------------------------------------
    def context(self):
        """The :class:`gancli.directions.context.RunContext` edits work in (unconditional image generators)."""
        if self._context is None:
            from ..directions.context import run_context

            self._context = run_context(self.target, self.G, self.meta, self.device)
            self._context.__dict__["spaces"] = self.spaces  # one set of spaces (and measured W scale) per handle
        return self._context

    @property
    def directions(self) -> dict:
        """The named directions saved with the run: {name: {"space", "method", "attribute", "measured", ...}}
        ({} when there are none)."""
        from .directions import saved_directions

        found = saved_directions(self.target, missing_ok=True)
        return found["directions"] if found else {}

    def edit(self, latents, direction: str, strengths=DEFAULT_STRENGTHS, *, seed: int = 0,
             latent_space: str = "z", space: str | None = None, method: str | None = None, condition_on=(),
             method_options=None, classifier: str | None = None, truncation: float | None = None,
             cutoff: int | None = None):
        """Move ``latents`` along ``direction`` by each of ``strengths`` (latent standard deviations), as
        ``gancli edit`` does: returns an :class:`~gancli.api.directions.EditResult` (``.grid`` one row per latent,
        one column per strength; ``.latents``; ``.images``).

        ``latents``: a tensor or array of ``latent_space`` ("z", "w" or "w+"), or a count drawn from ``seed``.
        ``strengths``: numbers, or "START:STOP:COUNT" / "-2,0,2". ``method="gradient"`` climbs the attribute
        classifier per latent instead of a saved direction (``condition_on``, ``method_options``, ``classifier``
        as for ``gancli edit``)."""
        from .directions import edit

        return edit(self, latents, direction, strengths, seed=seed, latent_space=latent_space, space=space,
                    method=method, condition_on=condition_on, method_options=method_options, classifier=classifier,
                    truncation=truncation, cutoff=cutoff)

    def fit_directions(self, method: str, attribute: str | None = None, condition_on=(), method_options=None,
                       classifier: str | None = None, seed: int = 0, space: str | None = None,
                       measure_samples: int = 200) -> dict:
        """Find directions with a finder (``gancli directions fit``) and save them in the run: {name: record}.
        ``method_options``: a dict or ["k=v", ...]; ``measure_samples``: latents each supervised direction and
        per-latent editor is measured on (0: none)."""
        from ..directions.fit import fit_directions
        from .directions import option_pairs
        from .registry import registry_for_command

        return fit_directions(self.context(), registry_for_command(), method, attribute, tuple(condition_on),
                              option_pairs(method_options), classifier, seed, space=space,
                              measure_samples=measure_samples)

    # ---- deployment --------------------------------------------------------------------------------
    def export(self, onnx: str | None = None, torchscript: str | None = None, pt2: str | None = None, **options):
        """``gancli export`` of this generator: see :func:`gancli.api.exporting.export`."""
        from .exporting import export

        return export(self.target, onnx=onnx, torchscript=torchscript, pt2=pt2, **options)


def check_classes(labels, num_classes: int, what: str) -> None:
    """Class numbers must be in 0..num_classes-1."""
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if len(bad):
        raise GancliError(f"{what} classes must be in 0..{num_classes - 1}, got {int(bad[0])}")
