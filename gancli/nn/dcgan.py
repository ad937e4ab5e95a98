"""DCGAN (Radford et al. 2016): transposed-convolution generator, strided-convolution discriminator.

Two layouts:

- ``standard`` adapts to a square image of side H = s0 * 2^k with 3 <= s0 <= 7 (28 = 7*4, 32 = 4*8,
  64 = 4*16): the generator projects z to s0 x s0 and doubles k times; the discriminator halves k times and
  ends in a s0 x s0 convolution to one score.
- ``course`` is the course's 28x28 network: generator 1 -> 3 -> 6 -> 13 -> 28 (channels 4w, 2w, w),
  discriminator 28 -> 13 -> 5 -> 1 (channels w/4, w/2); w = 64 gives the course's exact sizes.

``upsample`` chooses how the generator grows its feature maps after the first projection from z: ``transposed``
convolutions (DCGAN's own, which leave a checkerboard pattern where their kernels overlap unevenly), or a resize
convolution, ``nearest`` or ``bilinear`` interpolation to the next size followed by a 3x3 convolution (Odena et
al. 2016, "Deconvolution and Checkerboard Artifacts"). The first layer from the 1x1 latent stays a transposed
convolution either way: from a single pixel its kernel covers every output pixel once.
"""

import torch
from torch import nn

from .common import Projection, check_labels, class_maps, norm2d, one_hot


def plan_size(side: int) -> tuple[int, int]:
    """(s0, k) for an image side, or ValueError when the side cannot be reached by doubling."""
    k = 0
    while side % (2 ** (k + 1)) == 0 and side // 2 ** (k + 1) >= 3:
        k += 1
    if k == 0:
        raise ValueError(f"dcgan needs a square image side of the form s*2^k with s in 3..7 (28, 32, 64...), "
                         f"got {side}")
    return side // 2**k, k


def _grow(c_in: int, c_out: int, kernel: int, stride: int, padding: int, bias: bool, upsample: str, side: int):
    """A layer from c_in to c_out channels at ``side`` pixels: the transposed convolution, or resize + 3x3 conv."""
    if upsample == "transposed":
        return [nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding, bias=bias)]
    align = {} if upsample == "nearest" else {"align_corners": False}
    return [nn.Upsample(size=(side, side), mode=upsample, **align), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias)]


def _up(c_in: int, c_out: int, kernel: int, stride: int, padding: int = 0, bias: bool = True,
        upsample: str = "transposed", side: int = 0) -> list:
    grow = _grow(c_in, c_out, kernel, stride, padding, bias, upsample, side)
    return grow + [nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def _standard_generator(z_in: int, channels: int, side: int, width: int, upsample: str = "transposed") -> list:
    s0, k = plan_size(side)
    widths = [width * 2 ** i for i in reversed(range(k))]  # e.g. k=3: 4w, 2w, w
    layers = _up(z_in, widths[0], s0, 1, bias=False)
    for i, (c_in, c_out) in enumerate(zip(widths, widths[1:]), 1):
        layers += _up(c_in, c_out, 4, 2, 1, bias=False, upsample=upsample, side=s0 * 2 ** i)
    return layers + _grow(widths[-1], channels, 4, 2, 1, True, upsample, side) + [nn.Tanh()]


def _course_generator(z_in: int, channels: int, width: int, upsample: str = "transposed") -> list:
    # the course's make_gen_block sequence: kernel/stride (3,2) (4,1) (3,2) (4,2), default biases
    return (_up(z_in, 4 * width, 3, 2) + _up(4 * width, 2 * width, 4, 1, upsample=upsample, side=6)
            + _up(2 * width, width, 3, 2, upsample=upsample, side=13)
            + _grow(width, channels, 4, 2, 0, True, upsample, 28) + [nn.Tanh()])


def _standard_discriminator(c_in: int, side: int, width: int, norm: str) -> list:
    s0, k = plan_size(side)
    widths = [width * 2 ** i for i in range(k)]  # e.g. k=3: w, 2w, 4w
    layers = [nn.Conv2d(c_in, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Conv2d(a, b, 4, 2, 1, bias=norm == "none"), norm2d(norm, b), nn.LeakyReLU(0.2, inplace=True)]
    return layers + [nn.Conv2d(widths[-1], 1, s0, 1, 0)]


def _course_discriminator(c_in: int, width: int, norm: str) -> list:
    # the course's make_disc_block sequence, hidden_dim = w/4: 28 -> 13 -> 5 -> 1, all kernel 4 stride 2
    a, b = max(1, width // 4), max(1, width // 2)
    return [nn.Conv2d(c_in, a, 4, 2), norm2d(norm, a), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(a, b, 4, 2), norm2d(norm, b), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(b, 1, 4, 2)]


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: tuple, width: int, num_classes: int = 0, layout: str = "standard",
                 upsample: str = "transposed"):
        super().__init__()
        channels, side = shape[0], shape[1]
        self.z_dim, self.num_classes = z_dim, num_classes
        if layout == "course":
            layers = _course_generator(z_dim + num_classes, channels, width, upsample)
        else:
            layers = _standard_generator(z_dim + num_classes, channels, side, width, upsample)
        self.net = nn.Sequential(*layers)

    def forward(self, z, labels=None):
        check_labels(labels, self.num_classes)
        if self.num_classes:
            z = torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """Scores (N,). Conditional either the course's way (class channels concatenated to the image) or, with
    ``projection``, by adding <embed(y), h> on the sum-pooled features h before the last convolution."""

    def __init__(self, shape: tuple, width: int, num_classes: int = 0, norm: str = "batch",
                 layout: str = "standard", projection: bool = False):
        super().__init__()
        channels, side = shape[0], shape[1]
        self.num_classes = num_classes
        c_in = channels + (num_classes if num_classes and not projection else 0)
        if layout == "course":
            layers = _course_discriminator(c_in, width, norm)
        else:
            layers = _standard_discriminator(c_in, side, width, norm)
        self.net = nn.Sequential(*layers)
        self.projection = Projection(num_classes, layers[-1].in_channels) if num_classes and projection else None

    def forward(self, x, labels=None):
        check_labels(labels, self.num_classes)
        if self.projection is not None:
            h = self.net[:-1](x)
            return self.net[-1](h).view(-1) + self.projection(h.sum(dim=(2, 3)), labels)
        if self.num_classes:
            x = class_maps(x, labels, self.num_classes)
        return self.net(x).view(-1)
