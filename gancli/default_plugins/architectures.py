"""Built-in architectures. The torch modules live in gancli.nn and are imported when a model is built."""

import gancli

_INIT_HELP = "weight initialisation: dcgan = N(0, 0.02) as in the course, torch = PyTorch's defaults"
_UPSAMPLE_HELP = ("how the generator doubles its feature maps: transposed convolutions, or a resize convolution "
                  "(nearest or bilinear interpolation, then a 3x3 convolution), which leaves no checkerboard")
_PROJECTION_HELP = ("conditional discriminator by projection (Miyato & Koyama 2018): <embed(y), features> "
                    "added to the score, instead of class channels on the input")


def _initialise(module, init: str):
    if init == "dcgan":
        from gancli.nn.common import dcgan_init

        dcgan_init(module)
    elif init == "xavier":
        from gancli.nn.common import xavier_init

        xavier_init(module)
    return module


def _square_side(name: str, spec) -> int:
    """The side of a square image, or a one-line error when the data is not one or cannot be reached."""
    from gancli.nn.dcgan import plan_size

    if len(spec.shape) != 3 or spec.shape[1] != spec.shape[2]:
        raise gancli.GancliError(f"{name} needs square images (C, H, H); the data has shape {tuple(spec.shape)}")
    try:
        plan_size(spec.shape[1])
    except ValueError as exc:
        raise gancli.GancliError(f"{str(exc).replace('dcgan', name)}; resize the data (for example "
                                 f"--data-opt size=32)") from None
    return spec.shape[1]


# layout -> (generator width multipliers, discriminator width multipliers)
_MLP_LAYOUTS = {"course": ((1, 2, 4, 8), (4, 2, 1)), "flat": ((1, 1, 1), (1, 1, 1))}


class MLPArchitecture(gancli.Architecture):
    """The course's basic GAN: Linear+BatchNorm+ReLU generator, Linear+LeakyReLU(0.2) discriminator."""

    data_kinds = ("image", "points")

    class Options(gancli.Options):
        width: int = gancli.field(128, help="hidden width (generator blocks w..8w, discriminator 4w..w)", min=1)
        layout: str = gancli.field("course", choices=("course", "flat"),
                                   help="course = G widths w, 2w, 4w, 8w and D 4w, 2w, w; flat = three layers of w "
                                        "in each (better for 2-D points)")
        g_norm: str = gancli.field("batch", choices=("batch", "none"),
                                   help="generator normalisation: batch (the course) or none (better for 2-D points)")
        init: str = gancli.field("dcgan", help=_INIT_HELP, choices=("dcgan", "torch"))

    def build_generator(self, spec, z_dim, num_classes=0):
        from gancli.nn.mlp import MLPGenerator

        G = MLPGenerator(z_dim, spec.shape, self.width, num_classes, bounded=spec.kind == "image",
                         batch_norm=self.g_norm == "batch", multipliers=_MLP_LAYOUTS[self.layout][0])
        return _initialise(G, self.init)

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from gancli.nn.mlp import MLPDiscriminator

        D = MLPDiscriminator(spec.shape, self.width, num_classes, multipliers=_MLP_LAYOUTS[self.layout][1])
        return _initialise(D, self.init)


class DCGANArchitecture(gancli.Architecture):
    """DCGAN: transposed convolutions with BatchNorm+ReLU and Tanh; strided convolutions with LeakyReLU(0.2).

    layout=standard (the default) doubles from s0 x s0 to any s*2^k side; layout=course is the course's own 28x28
    network, which collapses unconditionally on the built-in digits (see docs/components.md).
    """

    class Options(gancli.Options):
        layout: str = gancli.field(
            "standard", choices=("standard", "course"),
            help="standard = DCGAN doubling from s0 x s0 (any s*2^k side), course = the course's 28x28 network")
        width: int = gancli.field(
            64, min=1, help="channels: standard = those of the widest-resolution layer (doubling towards 1x1); "
                            "course = the generator's hidden size (4w, 2w, w; discriminator w/4, w/2)")
        d_norm: str = gancli.field(
            "auto", choices=("auto", "batch", "layer", "none"),
            help="discriminator normalisation; auto = batch, or layer when a gradient penalty needs "
                 "per-sample scores")
        init: str = gancli.field("dcgan", help=_INIT_HELP, choices=("dcgan", "torch"))
        projection: bool = gancli.field(False, help=_PROJECTION_HELP)
        upsample: str = gancli.field("transposed", choices=("transposed", "nearest", "bilinear"), help=_UPSAMPLE_HELP)

    def _layout(self, spec) -> str:
        side = _square_side("dcgan", spec)
        if self.layout == "course" and side != 28:
            raise gancli.GancliError(f"dcgan layout=course is the course's 28x28 network; the data is {side}x{side}: "
                                     "use --data-opt size=28 or --arch-opt layout=standard")
        return self.layout

    def build_generator(self, spec, z_dim, num_classes=0):
        from gancli.nn.dcgan import DCGANGenerator

        G = DCGANGenerator(z_dim, spec.shape, self.width, num_classes, self._layout(spec), self.upsample)
        return _initialise(G, self.init)

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from gancli.nn.dcgan import DCGANDiscriminator

        layout = self._layout(spec)
        norm = self.d_norm
        if norm == "auto":
            norm = "layer" if batch_independent else "batch"
        elif norm == "batch" and batch_independent:
            raise gancli.GancliError("dcgan option d_norm=batch mixes samples, which the chosen Lipschitz enforcer "
                                     "does not allow; use d_norm=layer, none or auto")
        D = DCGANDiscriminator(spec.shape, self.width, num_classes, norm, layout, self.projection)
        return _initialise(D, self.init)


class ResNetArchitecture(gancli.Architecture):
    """SNGAN's residual generator and discriminator (Miyato et al. 2018), for 32x32 and other s*2^k sides.

    The discriminator has no normalisation layers; pair it with --loss hinge --lipschitz spectral-norm as SNGAN.
    """

    class Options(gancli.Options):
        width: int = gancli.field(
            32, min=1, help="channels of every residual block in G and D (SNGAN: 256 in G, 128 in D); 32 trains "
                            "at about dcgan's speed at 32x32 on a CPU, each doubling costs about 4x")
        init: str = gancli.field(
            "dcgan", choices=("dcgan", "xavier", "torch"),
            help="weight initialisation: dcgan = N(0, 0.02) as in the course, xavier = SNGAN's Xavier-uniform "
                 "(gain sqrt(2) in residual branches), torch = PyTorch's defaults")
        projection: bool = gancli.field(False, help=_PROJECTION_HELP)
        upsample: str = gancli.field("nearest", choices=("nearest", "bilinear", "transposed"), help=_UPSAMPLE_HELP)

    def build_generator(self, spec, z_dim, num_classes=0):
        from gancli.nn.resnet import ResNetGenerator

        _square_side("resnet", spec)
        return _initialise(ResNetGenerator(z_dim, spec.shape, self.width, num_classes, self.upsample), self.init)

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from gancli.nn.resnet import ResNetDiscriminator

        _square_side("resnet", spec)
        D = ResNetDiscriminator(spec.shape, self.width, num_classes, self.projection)
        return _initialise(D, self.init)


class StyleGAN2Architecture(gancli.Architecture):
    """StyleGAN2 (Karras et al. 2020): mapping network to W, modulated convolutions, noise, skip toRGBs; residual D.

    Pure PyTorch (no custom CUDA ops), for square sides s*2^k (28, 32, 64, ...), 1 or 3 channels. The generator
    offers the W and W+ spaces of gancli.latents (truncation, style mixing, editing in W). Conditional by a class
    embedding in the mapping network and projection in D. The paper trains it with the non-saturating loss, lazy R1,
    Adam (lr 0.0025, betas 0 and 0.99) and an EMA of G: the recipe is in docs/components.md.
    """

    class Options(gancli.Options):
        width: int = gancli.field(
            16, min=1, help="channels at the image's resolution in G and D, doubling at each halving up to "
                            "max_width (SG2's channel_base / resolution); 32x32: 16, 32, 64, 128")
        max_width: int = gancli.field(128, min=1, help="most channels of any layer (SG2: 512)")
        w_dim: int = gancli.field(128, min=1, help="size of w, the mapping network's output and hidden width "
                                                   "(SG2: 512)")
        mapping_depth: int = gancli.field(8, min=1, help="layers of the mapping network (SG2: 8; SG2-ADA's "
                                                         "CIFAR configuration: 2)")
        mapping_lr: float = gancli.field(0.01, min=1e-6, help="learning-rate multiplier of the mapping network "
                                                              "(the paper's 0.01)")
        mixing: float = gancli.field(0.9, min=0.0, max=1.0,
                                     help="style-mixing regularisation: probability that a training batch takes "
                                          "its ws from a second z from a random layer on (paper 0.9; 0 = off)")
        noise: bool = gancli.field(
            True, help="per-pixel noise inputs with learned strengths (the paper's); off: every detail comes from "
                       "w, so an image is a function of its latent alone (no speckles drawn by the noise)")
        mbstd: str = gancli.field(
            "auto", choices=("auto", "on", "off"),
            help="D's minibatch standard deviation layer; auto = on, except off when an enforcer needs per-sample "
                 "scores (gradient-penalty, r1, r2: each score must depend on its sample alone); on = always, as the "
                 "paper, which computes R1 through it")
        mbstd_group: int = gancli.field(4, min=1, help="mbstd group size (paper 4); a batch that it does not "
                                                       "divide uses its largest divisor below it")

    def _check(self, spec) -> None:
        _square_side("stylegan2", spec)

    def build_generator(self, spec, z_dim, num_classes=0):
        from gancli.nn.stylegan2 import StyleGAN2Generator

        self._check(spec)
        return StyleGAN2Generator(z_dim, spec.shape, num_classes, self.width, self.max_width, self.w_dim,
                                  self.mapping_depth, self.mapping_lr, self.mixing, self.noise)

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from gancli.nn.stylegan2 import StyleGAN2Discriminator

        self._check(spec)
        mbstd = self.mbstd == "on" or (self.mbstd == "auto" and not batch_independent)
        return StyleGAN2Discriminator(spec.shape, num_classes, self.width, self.max_width, mbstd, self.mbstd_group)


class R3GANArchitecture(gancli.Architecture):
    """R3GAN (Huang et al. 2024): no normalisation, inverted-bottleneck residual blocks with fix-up init.

    For square sides s*2^k (28, 32, 64, ...), 1 or 3 channels: G is a learned s0 x s0 basis (4x4; 7x7 at 28
    pixels) weighted by a linear map of z, then stages of blocks with [1, 3, 3, 1] low-pass upsampling; D mirrors
    it down to a depthwise s0 x s0 head, conditional by projection. It has no batch statistics, so R1 and R2 see
    per-sample scores. The paper trains it with --loss rpgan --lipschitz r1 --lipschitz r2 and Adam betas 0 and
    0.99 (docs/components.md has the recipe). Its zero-initialised layers rule out spectral-norm.
    """

    class Options(gancli.Options):
        width: int = gancli.field(16, min=1, help="channels at the image's resolution in G and D, doubling at each "
                                                  "halving up to max_width")
        max_width: int = gancli.field(64, min=1, help="most channels of any stage (R3GAN's CIFAR-10: 768 at every "
                                                      "stage, i.e. width = max_width)")
        blocks: int = gancli.field(1, min=1, help="residual blocks per resolution (R3GAN: 2)")
        expansion: int = gancli.field(2, min=1, help="the blocks' inverted bottleneck expands the channels by this "
                                                     "factor (R3GAN: 2)")
        group_channels: int = gancli.field(16, min=1, help="channels per group of the grouped 3x3 convolutions "
                                                           "(R3GAN: 16, its 1536 channels in 96 groups); they must "
                                                           "divide each stage's expanded width")

    def _networks(self, spec) -> dict:
        """The options the networks take, checked against the data: one-line errors for what cannot be built."""
        from gancli.nn.r3gan import stage_widths

        side = _square_side("r3gan", spec)
        try:
            stage_widths(side, self.width, self.max_width, self.expansion, self.group_channels)
        except ValueError as exc:
            raise gancli.GancliError(f"{exc}; change --arch-opt width, max_width, expansion or group_channels") \
                from None
        return {"width": self.width, "max_width": self.max_width, "blocks": self.blocks,
                "expansion": self.expansion, "group_channels": self.group_channels}

    def build_generator(self, spec, z_dim, num_classes=0):
        from gancli.nn.r3gan import R3GANGenerator

        return R3GANGenerator(z_dim, spec.shape, num_classes, **self._networks(spec))

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from gancli.nn.r3gan import R3GANDiscriminator

        return R3GANDiscriminator(spec.shape, num_classes, **self._networks(spec))  # per-sample by construction


@gancli.hookimpl
def register_architectures(register):
    register("mlp", MLPArchitecture)
    register("dcgan", DCGANArchitecture)
    register("resnet", ResNetArchitecture)
    register("stylegan2", StyleGAN2Architecture)
    register("r3gan", R3GANArchitecture)
