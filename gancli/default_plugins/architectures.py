"""Built-in architectures. The torch modules live in gancli.nn and are imported when a model is built."""

import gancli

_INIT_HELP = "weight initialisation: dcgan = N(0, 0.02) as in the course, torch = PyTorch's defaults"


def _initialise(module, init: str):
    if init == "dcgan":
        from gancli.nn.common import dcgan_init

        dcgan_init(module)
    return module


class MLPArchitecture(gancli.Architecture):
    """The course's basic GAN: Linear+BatchNorm+ReLU generator, Linear+LeakyReLU(0.2) discriminator."""

    data_kinds = ("image", "points")

    class Options(gancli.Options):
        width: int = gancli.field(128, help="hidden width (generator blocks w..8w, discriminator 4w..w)", min=1)
        init: str = gancli.field("dcgan", help=_INIT_HELP, choices=("dcgan", "torch"))

    def build_generator(self, spec, z_dim, num_classes=0):
        from gancli.nn.mlp import MLPGenerator

        G = MLPGenerator(z_dim, spec.shape, self.width, num_classes, bounded=spec.kind == "image")
        return _initialise(G, self.init)

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from gancli.nn.mlp import MLPDiscriminator

        return _initialise(MLPDiscriminator(spec.shape, self.width, num_classes), self.init)


class DCGANArchitecture(gancli.Architecture):
    """DCGAN: transposed convolutions with BatchNorm+ReLU and Tanh; strided convolutions with LeakyReLU(0.2)."""

    class Options(gancli.Options):
        width: int = gancli.field(64, help="channels of the widest-resolution layer (doubling towards 1x1)", min=1)
        d_norm: str = gancli.field(
            "auto", choices=("auto", "batch", "layer", "none"),
            help="discriminator normalisation; auto = batch, or layer when a gradient penalty needs "
                 "per-sample scores")
        init: str = gancli.field("dcgan", help=_INIT_HELP, choices=("dcgan", "torch"))

    def _check(self, spec):
        from gancli.nn.dcgan import plan_size

        if len(spec.shape) != 3 or spec.shape[1] != spec.shape[2]:
            raise gancli.GancliError(f"dcgan needs square images (C, H, H); the data has shape {tuple(spec.shape)}")
        try:
            plan_size(spec.shape[1])
        except ValueError as exc:
            raise gancli.GancliError(f"{exc}; resize the data (for example --data-opt size=32)") from None

    def build_generator(self, spec, z_dim, num_classes=0):
        from gancli.nn.dcgan import DCGANGenerator

        self._check(spec)
        return _initialise(DCGANGenerator(z_dim, spec.shape, self.width, num_classes), self.init)

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        from gancli.nn.dcgan import DCGANDiscriminator

        self._check(spec)
        norm = self.d_norm
        if norm == "auto":
            norm = "layer" if batch_independent else "batch"
        elif norm == "batch" and batch_independent:
            raise gancli.GancliError("dcgan option d_norm=batch mixes samples, which the chosen Lipschitz enforcer "
                                     "does not allow; use d_norm=layer, none or auto")
        return _initialise(DCGANDiscriminator(spec.shape, self.width, num_classes, norm), self.init)


@gancli.hookimpl
def register_architectures(register):
    register("mlp", MLPArchitecture)
    register("dcgan", DCGANArchitecture)
