"""DCGAN (Radford et al. 2016): transposed-convolution generator, strided-convolution discriminator.

Both adapt to a square image of side H = s0 * 2^k with 3 <= s0 <= 7 (28 = 7*4, 32 = 4*8, 64 = 4*16):
the generator projects z to s0 x s0 and doubles k times; the discriminator halves k times and ends in a
s0 x s0 convolution to one score.
"""

import torch
from torch import nn

from .common import check_labels, norm2d, one_hot


def plan_size(side: int) -> tuple[int, int]:
    """(s0, k) for an image side, or ValueError when the side cannot be reached by doubling."""
    k = 0
    while side % (2 ** (k + 1)) == 0 and side // 2 ** (k + 1) >= 3:
        k += 1
    if k == 0:
        raise ValueError(f"dcgan needs a square image side of the form s*2^k with s in 3..7 (28, 32, 64...), "
                         f"got {side}")
    return side // 2**k, k


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: tuple, width: int, num_classes: int = 0):
        super().__init__()
        channels, side = shape[0], shape[1]
        s0, k = plan_size(side)
        self.z_dim, self.num_classes = z_dim, num_classes
        widths = [width * 2 ** i for i in reversed(range(k))]  # e.g. k=3: 4w, 2w, w
        layers = [nn.ConvTranspose2d(z_dim + num_classes, widths[0], s0, 1, 0, bias=False),
                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True)]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z, labels=None):
        check_labels(labels, self.num_classes)
        if self.num_classes:
            z = torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    def __init__(self, shape: tuple, width: int, num_classes: int = 0, norm: str = "batch"):
        super().__init__()
        channels, side = shape[0], shape[1]
        s0, k = plan_size(side)
        self.num_classes = num_classes
        widths = [width * 2 ** i for i in range(k)]  # e.g. k=3: w, 2w, 4w
        layers = [nn.Conv2d(channels + num_classes, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=norm == "none"), norm2d(norm, c_out),
                       nn.LeakyReLU(0.2, inplace=True)]
        layers.append(nn.Conv2d(widths[-1], 1, s0, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x, labels=None):
        check_labels(labels, self.num_classes)
        if self.num_classes:  # class channels: the one-hot vector broadcast over the image
            maps = one_hot(labels, self.num_classes, x)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, maps], dim=1)
        return self.net(x).view(-1)
