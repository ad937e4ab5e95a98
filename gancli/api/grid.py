"""A picture of samples that shows itself in Jupyter (``_repr_png_``) and saves as PNG or, from samples, .npy.

Numpy and Pillow only (imported when drawing): the torch-free ONNX handle shows its samples through the same class."""

from __future__ import annotations

import io

from ..errors import GancliError


class Grid:
    """Samples drawn as one picture: a grid of images, or a scatter plot of 2-D points.

    ``samples`` is (N, C, H, W) in [-1, 1] (or (N, 2) points), a numpy array or a tensor; ``nrow`` images per
    row. ``.image`` is the PIL image, ``.samples`` the array (None for a grid read from a PNG file)."""

    def __init__(self, samples=None, kind: str = "image", nrow: int | None = None, image=None):
        self.samples = None if samples is None else _numpy(samples)
        self.kind, self.nrow, self._image, self._tensor = kind, nrow, image, samples

    @classmethod
    def from_file(cls, path: str) -> "Grid":
        """A PNG written earlier (a run's sample grid)."""
        from PIL import Image

        with Image.open(path) as image:
            return cls(image=image.copy())

    @property
    def tensor(self):
        """The samples as a torch tensor (the very one drawn, when they were drawn by torch)."""
        import torch

        return self._tensor if isinstance(self._tensor, torch.Tensor) else torch.from_numpy(self.samples)

    @property
    def image(self):
        """The picture, a PIL image (drawn on first use)."""
        if self._image is None:
            from ..runtime import images

            if self.kind == "points":
                self._image = images.points_image(self.samples)
            else:
                self._image = images.grid_image(self.samples, self.nrow)
        return self._image

    def save(self, path: str) -> str:
        """Write the picture (.png) or the raw samples (.npy, as `gancli sample -o x.npy` does)."""
        from ..runtime import images

        if str(path).lower().endswith(".npy") and self.samples is None:
            raise GancliError("this grid was read from a picture and has no samples to save as .npy")
        if self.samples is not None:
            images.save_samples(self.samples, str(path), self.kind, nrow=self.nrow)
        else:
            self.image.save(path)
        return str(path)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG")
        return buffer.getvalue()

    def __repr__(self) -> str:
        what = f"{len(self.samples)} {self.kind} samples" if self.samples is not None else "a picture"
        return f"<gancli Grid: {what}, {self.image.width}x{self.image.height}>"


def _numpy(samples):
    import numpy as np

    if hasattr(samples, "detach"):
        samples = samples.detach().float().cpu().numpy()
    return np.asarray(samples)
