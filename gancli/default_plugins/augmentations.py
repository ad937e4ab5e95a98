"""Built-in augmentations: DiffAugment's colour, translation and cutout (Zhao et al. 2020).

The transformations live in gancli.augment.ops and are imported when a batch is augmented. Each image is
transformed with probability p (``--augment-p``; 1 is DiffAugment, ``auto`` is ADA's adaptive p).
"""

import gancli


class ColorAugmentation(gancli.Augmentation):
    """Colour: random brightness, saturation (colour images) and contrast, as DiffAugment."""

    class Options(gancli.Options):
        brightness: float = gancli.field(0.5, help="largest brightness shift, added in [-b, b]", min=0.0)
        saturation: float = gancli.field(1.0, help="saturation factor drawn in [1 - s, 1 + s]", min=0.0)
        contrast: float = gancli.field(0.5, help="contrast factor drawn in [1 - c, 1 + c]", min=0.0, max=1.0)

    def draw(self, n, p, shape, device):
        from gancli.augment.ops import draw_color

        return draw_color(n, p, device, self.brightness, self.saturation, self.contrast)

    def apply(self, x, params):
        from gancli.augment.ops import apply_color

        return apply_color(x, params)


class TranslationAugmentation(gancli.Augmentation):
    """Translation: a random whole-pixel shift of up to `ratio` of the side in each direction."""

    class Options(gancli.Options):
        ratio: float = gancli.field(0.125, help="largest shift as a share of the side (DiffAugment: 1/8)",
                                    min=0.0, max=0.5)
        pad: str = gancli.field("reflect", choices=("reflect", "zeros"),
                                help="what fills the uncovered border: the mirrored image, or 0 (DiffAugment)")

    def draw(self, n, p, shape, device):
        from gancli.augment.ops import draw_translation

        return draw_translation(n, p, device, self.ratio, shape[-2], shape[-1])

    def apply(self, x, params):
        from gancli.augment.ops import apply_translation

        return apply_translation(x, params, self.ratio, self.pad)


class CutoutAugmentation(gancli.Augmentation):
    """Cutout: a square of about `ratio` of the side at a random place set to 0 (mid-grey), as DiffAugment."""

    class Options(gancli.Options):
        ratio: float = gancli.field(0.5, help="side of the square as a share of the image side", min=0.0, max=1.0)

    def draw(self, n, p, shape, device):
        from gancli.augment.ops import draw_cutout

        return draw_cutout(n, p, device, shape[-2], shape[-1])

    def apply(self, x, params):
        from gancli.augment.ops import apply_cutout

        return apply_cutout(x, params, self.ratio)


@gancli.hookimpl
def register_augmentations(register):
    register("color", ColorAugmentation, aliases=("colour",))
    register("translation", TranslationAugmentation, aliases=("translate",))
    register("cutout", CutoutAugmentation)
