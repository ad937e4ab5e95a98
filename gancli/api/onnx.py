"""gancli.load("g.onnx"): an exported generator on onnxruntime, numpy and Pillow, without torch.

It offers what the torch handle offers where an export can: ``sample`` (numpy arrays; numpy's random
generator draws the latents, so a seed gives other samples than the torch handle's), ``images``, ``decode``
in the spaces the file takes, ``directions`` and ``edit`` along them, and ``meta``."""

from __future__ import annotations

from .grid import Grid


class OnnxGenerator:
    """An .onnx file written by ``gancli export``: ``runtime`` is gancli.runtime's OnnxGenerator under it."""

    def __init__(self, path: str):
        from ..runtime.onnx_generator import OnnxGenerator as Runtime

        self.target = path
        self.runtime = Runtime(path)
        self.info = self.runtime.info

    @property
    def meta(self) -> dict:
        """The gancli metadata the file carries (latent size, classes, shape, directions, step...)."""
        return self.info.as_json()

    @property
    def kind(self) -> str:
        """"image" or "points"."""
        return self.info.data_kind

    @property
    def num_classes(self) -> int:
        """Classes the generator is conditioned on (0: unconditional)."""
        return self.info.num_classes

    @property
    def step(self):
        """The training step the exported weights are from."""
        return self.info.step

    @property
    def space_names(self) -> tuple:
        """The spaces the file takes latents of: ("z",), or ("z", "w", "w+") for a synthesis-only export."""
        return self.runtime.spaces

    @property
    def directions(self) -> dict:
        """{name: {"space": ...}} of the directions the file carries."""
        return {name: {"space": self.info.space_of(name)} for name in self.info.directions}

    def __repr__(self) -> str:
        return f"<gancli OnnxGenerator {self.target}: step {self.step}, spaces {'/'.join(self.space_names)}>"

    def latents(self, n: int = 64, seed: int = 0):
        """``n`` Gaussian z of ``seed``, drawn by numpy (as ``gancli generate`` draws them)."""
        return self.runtime.latents(self._count(n), seed)

    def decode(self, latents, space: str = "z", labels=None, truncation: float | None = None,
               cutoff: int | None = None, direction: str | None = None, strength: float = 1.0):
        """Images in [-1, 1] (numpy) for latents of ``space``, moved ``strength`` latent standard deviations along
        the stored ``direction`` if one is named; labels: None (the classes in turn), an int or a list."""
        import numpy as np

        latents = np.asarray(latents, dtype=np.float32)
        labels = self._labels(len(latents), labels) if space == "z" else None
        return self.runtime.draw(latents, space, labels, truncation, cutoff, direction, strength)

    def sample(self, n: int = 64, seed: int = 0, labels=None, truncation: float | None = None,
               cutoff: int | None = None):
        """``n`` samples of ``seed``, what ``gancli generate g.onnx -n N --seed S -o x.npy`` writes."""
        return self.decode(self.latents(n, seed), "z", labels, truncation, cutoff)

    def images(self, n: int = 64, seed: int = 0, labels=None, truncation: float | None = None,
               cutoff: int | None = None, nrow: int | None = None) -> Grid:
        """:meth:`sample` as a :class:`Grid`, shown as a picture in Jupyter."""
        return Grid(self.sample(n, seed, labels, truncation, cutoff), self.kind, nrow)

    def edit(self, latents, direction: str, strengths=(-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0), *, seed: int = 0,
             latent_space: str = "z", labels=None, truncation: float | None = None) -> Grid:
        """A strip per latent along a direction stored in the file: rows are latents, columns strengths."""
        import numpy as np

        latents = self.latents(latents, seed) if isinstance(latents, int) else np.asarray(latents, np.float32)
        strengths = [float(s) for s in strengths]
        strips = [self.decode(latents, latent_space, labels, truncation, None, direction, s) for s in strengths]
        rows = np.stack(strips, axis=1).reshape(-1, *strips[0].shape[1:])
        return Grid(rows, self.kind, nrow=len(strengths))

    def _labels(self, n: int, labels):
        import numpy as np

        if labels is None or isinstance(labels, int):
            return self.runtime.labels(n, labels)
        return np.asarray(labels, dtype=np.int64)

    @staticmethod
    def _count(n: int) -> int:
        from ..errors import GancliError

        if n < 1:
            raise GancliError(f"-n must be at least 1, got {n}")
        return n
