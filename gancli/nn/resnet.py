"""SNGAN-style residual networks (Miyato et al. 2018; layout of Mimicry's SNGAN for CIFAR-10).

Generator: z (+ one-hot class) -> Linear to s0 x s0 x C -> k up-blocks (BN, ReLU, nearest 2x upsample,
conv3x3, BN, ReLU, conv3x3, plus an upsampled 1x1-conv shortcut) -> BN, ReLU, conv3x3, tanh; for an image of
side s0 * 2^k (32 = 4 * 2^3, 28 = 7 * 2^2, 64 = 4 * 2^4). ``upsample`` = bilinear interpolates instead, and
transposed replaces each block's upsample + first conv3x3 by a 4x4 stride-2 transposed convolution (the shortcut
stays a resize, so the checkerboard comes from the residual branch alone).

Discriminator: an optimised first block (conv3x3, ReLU, conv3x3, 2x2 average pool; shortcut pool then 1x1 conv),
down-blocks until the side is at most 8 (32 -> 16 -> 8 as SNGAN), two blocks without downsampling, ReLU,
global sum pooling, Linear to one score. No normalisation layers (per-sample scores by construction).
"""

import torch
from torch import nn
from torch.nn import functional as F

from .common import Projection, check_labels, class_maps, one_hot
from .dcgan import plan_size


def _conv(c_in: int, c_out: int, kernel: int, residual: bool = False) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2)
    conv.residual = residual  # xavier_init gives residual-branch convolutions gain sqrt(2), as SNGAN
    return conv


class UpBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, upsample: str = "nearest"):
        super().__init__()
        self.upsample = upsample
        self.b1 = nn.BatchNorm2d(c_in)
        if upsample == "transposed":
            self.c1 = nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)
            self.c1.residual = True
        else:
            self.c1 = _conv(c_in, c_out, 3, residual=True)
        self.b2, self.c2 = nn.BatchNorm2d(c_out), _conv(c_out, c_out, 3, residual=True)
        self.c_sc = _conv(c_in, c_out, 1)

    def _resize(self, x):
        mode = "nearest" if self.upsample == "transposed" else self.upsample
        return F.interpolate(x, scale_factor=2, mode=mode, **({} if mode == "nearest" else {"align_corners": False}))

    def forward(self, x):
        h = F.relu(self.b1(x))
        h = self.c1(h if self.upsample == "transposed" else self._resize(h))
        h = self.c2(F.relu(self.b2(h)))
        return h + self.c_sc(self._resize(x))


class DownBlock(nn.Module):
    """Residual block of the discriminator; ``first`` is SNGAN's optimised block (no ReLU before the first conv,
    shortcut pooled before its 1x1 convolution)."""

    def __init__(self, c_in: int, c_out: int, down: bool, first: bool = False):
        super().__init__()
        self.down, self.first = down, first
        self.c1, self.c2 = _conv(c_in, c_out, 3, residual=True), _conv(c_out, c_out, 3, residual=True)
        self.c_sc = _conv(c_in, c_out, 1) if (c_in != c_out or down) else None

    def forward(self, x):
        h = self.c2(F.relu(self.c1(x if self.first else F.relu(x))))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.c_sc is None:
            return h + x
        if self.first:
            return h + self.c_sc(F.avg_pool2d(x, 2))
        shortcut = self.c_sc(x)
        return h + (F.avg_pool2d(shortcut, 2) if self.down else shortcut)


class ResNetGenerator(nn.Module):
    def __init__(self, z_dim: int, shape: tuple, width: int, num_classes: int = 0, upsample: str = "nearest"):
        super().__init__()
        channels, side = shape[0], shape[1]
        self.s0, k = plan_size(side)
        self.z_dim, self.num_classes, self.width = z_dim, num_classes, width
        self.l1 = nn.Linear(z_dim + num_classes, self.s0 * self.s0 * width)
        self.blocks = nn.Sequential(*[UpBlock(width, width, upsample) for _ in range(k)])
        self.b_out, self.c_out = nn.BatchNorm2d(width), _conv(width, channels, 3)

    def forward(self, z, labels=None):
        check_labels(labels, self.num_classes)
        if self.num_classes:
            z = torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1)
        h = self.blocks(self.l1(z).view(-1, self.width, self.s0, self.s0))
        return torch.tanh(self.c_out(F.relu(self.b_out(h))))


class ResNetDiscriminator(nn.Module):
    """Scores (N,). Conditional the course's way (class channels concatenated to the image) or, with
    ``projection``, SNGAN-projection's <embed(y), h> added on the pooled features h."""

    def __init__(self, shape: tuple, width: int, num_classes: int = 0, projection: bool = False):
        super().__init__()
        channels, side = shape[0], shape[1]
        self.num_classes = num_classes
        c_in = channels + (num_classes if num_classes and not projection else 0)
        blocks, side = [DownBlock(c_in, width, down=True, first=True)], side // 2
        while side > 8 and side % 2 == 0:
            blocks.append(DownBlock(width, width, down=True))
            side //= 2
        blocks += [DownBlock(width, width, down=False), DownBlock(width, width, down=False)]
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(width, 1)
        self.projection = Projection(num_classes, width) if num_classes and projection else None

    def forward(self, x, labels=None):
        check_labels(labels, self.num_classes)
        if self.num_classes and self.projection is None:
            x = class_maps(x, labels, self.num_classes)
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))
        score = self.linear(h).view(-1)
        return score if self.projection is None else score + self.projection(h, labels)
