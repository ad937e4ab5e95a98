"""A gancli dataset plugin: anti-aliased circles, squares and triangles, drawn from a seed at any size.

Each image holds one shape of random position, size and rotation (and colour, with color=true) on black,
labelled by its kind, so the set trains conditional models and has three clear modes plus continuous
factors of variation. Nothing is downloaded: the images are computed from signed distance functions.
"""

import gancli

SHAPES = ("circle", "square", "triangle")


class ShapesDataset(gancli.Dataset):
    """Circles, squares and triangles at random places, sizes and angles (labels: the shape); drawn, not downloaded."""

    class Options(gancli.Options):
        size: int = gancli.field(32, help="image side in pixels", min=8, max=256)
        n: int = gancli.field(10_000, help="number of images", min=1)
        color: bool = gancli.field(False, help="draw each shape in a random colour (3 channels) instead of white")
        seed: int = gancli.field(0, help="seed the images are drawn from")

    def load(self):
        import torch

        from .draw import draw_shapes

        images, labels = draw_shapes(self.n, self.size, self.color, self.seed)
        spec = gancli.DataSpec(kind="image", shape=tuple(images.shape[1:]), class_names=SHAPES)
        return gancli.DataBundle(x=torch.from_numpy(images), spec=spec, labels=torch.from_numpy(labels))


@gancli.hookimpl
def register_datasets(register):
    register("shapes", ShapesDataset)
