"""R3GAN's networks (Huang et al. 2024, "The GAN is dead; long live the GAN! A Modern GAN Baseline"), small-scale.

A plain modern ConvNet with no normalisation layer anywhere, so every sample's score is its own (R1 and R2 need
that) and nothing depends on batch statistics:

- Residual blocks ``x + conv1x1(act(grouped conv3x3(act(conv1x1(x)))))``: an inverted bottleneck that expands the
  channels ``expansion`` times, mixes space with a grouped 3x3 convolution of ``group_channels`` channels per
  group, and projects back; each activation is a learned bias then leaky ReLU (0.2). Convolutions have no bias.
- Fix-up initialisation: weights ~ N(0, gain^2 / fan_in) ("MSR"), where the last convolution of every block has
  gain 0, so each block starts as the identity, and the other two gain ``sqrt(2 / (1 + 0.2^2)) * L^(-1/(2m - 2))``
  for L blocks in the network and m = 3 convolutions per block: the residual stream's variance does not grow
  with depth.
- Resampling with the [1, 2, 1] interpolation filter of R3GAN's code (convolved with [1, 1] for the 2x step: the
  [1, 3, 3, 1] kernel of :mod:`gancli.nn.stylegan2`, whose low-pass up- and downsampling this module uses).
- G: z (with a class embedding concatenated, when conditional) -> a linear map to one coefficient per channel,
  times a learned s0 x s0 basis per channel (4x4; 7x7 for 28-pixel images), then one stage of blocks per
  resolution, upsampling between stages, and a 1x1 convolution to the image channels; tanh at the end (R3GAN
  leaves the image unbounded, gancli's generators give [-1, 1]).
- D: a 1x1 convolution from the image, stages of blocks, downsampling between them, and at s0 x s0 a depthwise
  s0 x s0 convolution (one learned spatial basis per channel) and a linear layer to the score; conditional by
  projection: the linear layer gives as many features h as the head has channels, and the score is <embed(y), h>.

Widths as in :mod:`gancli.nn.stylegan2`: ``width`` channels at the image's resolution, doubling at each halving up
to ``max_width`` (``width = max_width`` gives one width at every stage, R3GAN's CIFAR-10 configuration); where two
stages' widths differ, a 1x1 convolution joins them at the lower of their resolutions, as R3GAN's transitions do.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .common import Projection, check_labels, one_hot
from .stylegan2 import downsample2x, fir_kernel, upsample2x, widths

ACTIVATION_GAIN = math.sqrt(2 / (1 + 0.2**2))  # keeps the second moment through leaky ReLU(0.2)
CONVS_PER_BLOCK = 3


def msr_init(layer: nn.Module, gain: float = 1.0) -> nn.Module:
    """Weights ~ N(0, gain^2 / fan_in) (He et al. 2015), zero when gain is 0; ``layer`` returned."""
    weight = layer.weight
    fan_in = weight[0].numel()  # in_features, or in_channels / groups * kernel area
    with torch.no_grad():
        if gain:
            weight.normal_(0.0, gain / math.sqrt(fan_in))
        else:
            weight.zero_()
    return layer


def conv(c_in: int, c_out: int, kernel: int = 1, groups: int = 1, gain: float = 1.0) -> nn.Conv2d:
    return msr_init(nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, groups=groups, bias=False), gain)


class BiasedActivation(nn.Module):
    """A learned bias per channel, then leaky ReLU (0.2): the only place R3GAN's blocks have biases."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return F.leaky_relu(x + self.bias.to(x.dtype).view(1, -1, 1, 1), 0.2)


class ResidualBlock(nn.Module):
    """x + the inverted bottleneck of x; ``num_blocks`` (L, the network's number of blocks) scales the init."""

    def __init__(self, channels: int, expansion: int, group_channels: int, num_blocks: int):
        super().__init__()
        hidden = channels * expansion
        gain = ACTIVATION_GAIN * num_blocks ** (-1 / (2 * CONVS_PER_BLOCK - 2))
        self.expand = conv(channels, hidden, 1, gain=gain)
        self.act1 = BiasedActivation(hidden)
        self.spatial = conv(hidden, hidden, 3, groups=hidden // group_channels, gain=gain)
        self.act2 = BiasedActivation(hidden)
        self.project = conv(hidden, channels, 1, gain=0.0)  # fix-up: the block starts as the identity

    def forward(self, x):
        return x + self.project(self.act2(self.spatial(self.act1(self.expand(x)))))


def group_size(hidden: int, group_channels: int) -> int:
    """Channels per group of a grouped 3x3 convolution over ``hidden`` channels, or ValueError when they do not
    divide them."""
    size = min(group_channels, hidden)
    if hidden % size:
        raise ValueError(f"r3gan's expanded widths (width x expansion) must be multiples of group_channels "
                         f"{group_channels}, and {hidden} is not")
    return size


def stage_widths(side: int, width: int, max_width: int, expansion: int, group_channels: int) -> dict:
    """{resolution: channels} from s0 up to ``side``: ``width`` at the image's side, doubling at each halving up to
    ``max_width``; ValueError when a stage's grouped convolution cannot be built."""
    chans = widths(side, width, max_width)
    for c in chans.values():
        group_size(c * expansion, group_channels)
    return chans


def _stage(channels: int, blocks: int, expansion: int, group_channels: int, total: int) -> nn.Sequential:
    size = group_size(channels * expansion, group_channels)
    return nn.Sequential(*[ResidualBlock(channels, expansion, size, total) for _ in range(blocks)])


class _Transition(nn.Module):
    """Between two stages: 2x resampling, and a 1x1 convolution where the widths differ, done at the lower
    resolution of the two (R3GAN's order: convolve then upsample in G, downsample then convolve in D)."""

    def __init__(self, c_in: int, c_out: int, up: bool):
        super().__init__()
        self.up = up
        self.conv = conv(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x):
        if self.up:
            return upsample2x(self.conv(x), self.fir)
        return self.conv(downsample2x(x, self.fir))


class R3GANGenerator(nn.Module):
    """``G(z, labels=None)`` -> (N, C, H, H) in [-1, 1]: basis at s0 x s0, one stage of blocks per resolution."""

    def __init__(self, z_dim: int, shape: tuple, num_classes: int = 0, width: int = 16, max_width: int = 64,
                 blocks: int = 1, expansion: int = 2, group_channels: int = 16):
        super().__init__()
        channels, side = shape[0], shape[1]
        chans = stage_widths(side, width, max_width, expansion, group_channels)
        res = sorted(chans)
        total = blocks * len(res)
        self.z_dim, self.num_classes = z_dim, num_classes
        # R3GAN embeds the class vector into as many features as z has, concatenated to z
        self.embed = msr_init(nn.Linear(num_classes, z_dim, bias=False)) if num_classes else None
        self.coefficients = msr_init(nn.Linear(z_dim * (2 if num_classes else 1), chans[res[0]], bias=False))
        self.basis = nn.Parameter(torch.randn(chans[res[0]], res[0], res[0]))
        layers = [_stage(chans[res[0]], blocks, expansion, group_channels, total)]
        for low, high in zip(res, res[1:]):
            layers += [_Transition(chans[low], chans[high], up=True),
                       _stage(chans[high], blocks, expansion, group_channels, total)]
        self.layers = nn.Sequential(*layers)
        self.to_image = conv(chans[side], channels, 1)

    def forward(self, z, labels=None):
        check_labels(labels, self.num_classes)
        if self.embed is not None:
            z = torch.cat([z, self.embed(one_hot(labels, self.num_classes, z))], dim=1)
        x = self.basis.unsqueeze(0) * self.coefficients(z)[:, :, None, None]
        return torch.tanh(self.to_image(self.layers(x)))


class R3GANDiscriminator(nn.Module):
    """Scores (N,): stages of blocks down to s0 x s0, a depthwise s0 x s0 head; projection when conditional."""

    def __init__(self, shape: tuple, num_classes: int = 0, width: int = 16, max_width: int = 64, blocks: int = 1,
                 expansion: int = 2, group_channels: int = 16):
        super().__init__()
        channels, side = shape[0], shape[1]
        chans = stage_widths(side, width, max_width, expansion, group_channels)
        res = sorted(chans, reverse=True)
        total = blocks * len(res)
        self.num_classes = num_classes
        self.from_image = conv(channels, chans[side], 1)
        layers = []
        for high, low in zip(res, res[1:]):
            layers += [_stage(chans[high], blocks, expansion, group_channels, total),
                       _Transition(chans[high], chans[low], up=False)]
        c, s0 = chans[res[-1]], res[-1]
        self.layers = nn.Sequential(*layers, _stage(c, blocks, expansion, group_channels, total))
        self.basis = msr_init(nn.Conv2d(c, c, s0, groups=c, bias=False))  # depthwise s0 x s0
        self.out = msr_init(nn.Linear(c, c if num_classes else 1, bias=False))
        self.projection = None
        if num_classes:
            self.projection = Projection(num_classes, c)
            msr_init(self.projection.embed, gain=1 / math.sqrt(c))  # R3GAN's scale: <embed, h> starts O(1)

    def forward(self, x, labels=None):
        check_labels(labels, self.num_classes)
        h = self.out(self.basis(self.layers(self.from_image(x))).flatten(1))
        return h.view(-1) if self.projection is None else self.projection(h, labels)
