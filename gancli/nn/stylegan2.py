"""StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"), small-scale, in plain
PyTorch: no custom CUDA ops, so it runs wherever torch does (CPU included).

Generator = mapping + synthesis, as in NVlabs/stylegan2-ada-pytorch:

- mapping: z normalised to unit second moment (and, when conditional, an embedding of the class vector normalised
  the same way and concatenated) -> ``depth`` equalised-lr Linear + leaky ReLU layers with learning-rate multiplier
  0.01 -> w. In training mode it tracks ``w_avg``, the moving average of w (beta 0.995), the centre of truncation.
- synthesis: a learned constant s0 x s0 (4x4, or 7x7 for 28-pixel images), then per resolution a 2x upsampling
  modulated convolution and a modulated convolution (the first resolution has one), each followed by per-pixel
  noise with a learned strength (0 at start; none at all with ``use_noise=False``), bias and leaky ReLU; a toRGB
  (modulated 1x1, not demodulated) at every resolution, summed into an image that is upsampled alongside
  ("skip" generator); tanh at the end.
  One w per layer: ``num_ws`` = 2k + 2 for k doublings (a toRGB shares its w with the next resolution's first
  convolution, as in the paper's code).

Resampling uses the paper's [1, 3, 3, 1] low-pass filter, as depthwise (transposed) convolutions: upsampling
convolutions are a stride-2 transposed 3x3 convolution followed by the filter (gain 4), the image is upsampled by
the filter alone (which equals bilinear interpolation away from the border), and the discriminator filters
before striding.

Discriminator: SG2's residual network: fromRGB (1x1), per resolution a block of two 3x3 convolutions (the second
downsampling) plus a downsampling 1x1 skip, summed and scaled by 1/sqrt(2); at s0 x s0 the minibatch standard
deviation layer, a 3x3 convolution, a dense layer and the output. Conditional by projection
(:class:`~gancli.nn.common.Projection` on the dense features).

Every weight is stored as N(0, 1) (divided by the learning-rate multiplier) and scaled at run time by
lr_mul / sqrt(fan_in) (equalised learning rate, Karras et al. 2018). When an enforcer parametrises a weight
(spectral norm), that parametrisation sets the scale and the equalising gain is dropped.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

from .common import Projection, check_labels, one_hot
from .dcgan import plan_size

SQRT2, SQRT_HALF = math.sqrt(2.0), math.sqrt(0.5)
NOISE_MODES = ("const", "random", "none")


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def lrelu(x: torch.Tensor, gain: float = SQRT2) -> torch.Tensor:
    """Leaky ReLU (slope 0.2) times sqrt(2), which keeps the activations' second moment (the paper's def_gain)."""
    return F.leaky_relu(x, 0.2) * gain


def widths(side: int, width: int, max_width: int) -> dict:
    """Channels per resolution: ``width`` at the image side, doubling at each halving, at most ``max_width``."""
    s0, k = plan_size(side)
    return {s0 * 2**i: min(width * 2 ** (k - i), max_width) for i in range(k + 1)}


# ---- resampling with the [1, 3, 3, 1] filter ----------------------------------------------------------------

def fir_kernel() -> torch.Tensor:
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = torch.outer(k, k)
    return k / k.sum()


def _depthwise(kernel: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return kernel.to(x.dtype).expand(x.shape[1], 1, *kernel.shape)


def blur(x: torch.Tensor, kernel: torch.Tensor, pad: int, gain: float = 1.0) -> torch.Tensor:
    """The filter on every channel, zero padding ``pad`` on each side (4x4 kernel: side + 2 pad - 3)."""
    return F.conv2d(F.pad(x, (pad,) * 4), _depthwise(kernel * gain, x), groups=x.shape[1])


def upsample2x(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """2x upsampling by the filter (zero insertion + filter, gain 4): 3/4 and 1/4 weights, as bilinear."""
    return F.conv_transpose2d(x, _depthwise(kernel * 4, x), stride=2, padding=1, groups=x.shape[1])


def downsample2x(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Filter, then keep every second pixel: H -> H / 2.

    A stride-2 depthwise convolution in float32; in reduced precision the stride-1 filter and a slice, the same
    numbers: oneDNN's strided depthwise bfloat16 convolution took 65 ms (forward and backward, batch 64 at
    16 x 32 x 32, one thread) against 13-17 ms, and was half of a bf16 training step of stylegan2."""
    if x.dtype == torch.float32:
        return F.conv2d(F.pad(x, (1,) * 4), _depthwise(kernel, x), stride=2, groups=x.shape[1])
    return blur(x, kernel, pad=1)[..., ::2, ::2]


# ---- equalised learning rate ------------------------------------------------------------------------------

def _gain(module, gain: float) -> float:
    """The equalising gain, or 1 when an enforcer has parametrised the weight (spectral norm sets its scale)."""
    return 1.0 if parametrize.is_parametrized(module, "weight") else gain


class EqualLinear(nn.Linear):
    """Linear with equalised learning rate: weight ~ N(0, 1) / lr_mul scaled by lr_mul / sqrt(in_features) at run
    time, bias scaled by lr_mul. A subclass of nn.Linear so that enforcers (spectral norm) find it."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activation: bool = False):
        super().__init__(in_features, out_features, bias=bias)
        with torch.no_grad():
            self.weight.normal_().div_(lr_mul)
            if bias:
                self.bias.fill_(bias_init)
        self.weight_gain, self.bias_gain = lr_mul / math.sqrt(in_features), lr_mul
        self.activation = activation

    def effective_weight(self) -> torch.Tensor:
        return self.weight * _gain(self, self.weight_gain)

    def forward(self, x):
        bias = None if self.bias is None else self.bias * self.bias_gain
        x = F.linear(x, self.effective_weight(), bias)
        return lrelu(x) if self.activation else x


class EqualConv2d(nn.Conv2d):
    """Conv (kernel 1 or 3, 'same' padding) with equalised learning rate, optional leaky ReLU and 2x downsampling
    (the filter first; for 3x3: filter with padding 2, then stride 2). ``gain`` multiplies the activation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: bool = True, down: bool = False):
        super().__init__(in_channels, out_channels, kernel_size, bias=bias)
        with torch.no_grad():
            self.weight.normal_()
            if bias:
                self.bias.zero_()
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.activation, self.down = activation, down
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x, gain: float = 1.0):
        weight = self.weight * _gain(self, self.weight_gain)
        k = self.kernel_size[0]
        if self.down and k == 1:
            x = F.conv2d(downsample2x(x, self.fir), weight, self.bias)
        elif self.down:
            x = F.conv2d(blur(x, self.fir, pad=(k + 1) // 2), weight, self.bias, stride=2)
        else:
            x = F.conv2d(x, weight, self.bias, padding=k // 2)
        return lrelu(x, SQRT2 * gain) if self.activation else (x * gain if gain != 1 else x)


# ---- mapping -------------------------------------------------------------------------------------------

class MappingNetwork(nn.Module):
    """z (N, z_dim) [+ labels] -> w (N, w_dim); tracks the buffer ``w_avg`` in training mode."""

    def __init__(self, z_dim: int, w_dim: int, num_classes: int = 0, depth: int = 8, lr_mul: float = 0.01,
                 w_avg_beta: float = 0.995):
        super().__init__()
        self.z_dim, self.w_dim, self.num_classes, self.w_avg_beta = z_dim, w_dim, num_classes, w_avg_beta
        self.embed = EqualLinear(num_classes, w_dim) if num_classes else None
        features = [z_dim + (w_dim if num_classes else 0)] + [w_dim] * depth
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=lr_mul, activation=True)
                                    for a, b in zip(features, features[1:]))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z, labels=None, update_w_avg: bool = True):
        check_labels(labels, self.num_classes)
        x = normalize_2nd_moment(z)
        if self.num_classes:
            y = normalize_2nd_moment(self.embed(one_hot(labels, self.num_classes, z)))
            x = torch.cat([x, y.to(x.dtype)], dim=1)
        for layer in self.layers:
            x = layer(x)
        if self.training and update_w_avg:
            with torch.no_grad():
                self.w_avg.lerp_(x.detach().float().mean(dim=0), 1 - self.w_avg_beta)
        return x


# ---- synthesis -----------------------------------------------------------------------------------------

def _demodulation(styles: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """1 / ||w'_o|| for the modulated weights w'_oik = w_oik s_i, per sample and output channel (N, O).

    Computed as s^2 @ (sum_k w^2)^T, in float32: it never forms the (N, O, I, k, k) modulated weights."""
    with torch.autocast(styles.device.type, enabled=False):
        return (styles.float().square() @ weight.float().square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()


class SynthesisLayer(nn.Module):
    """Modulated, demodulated 3x3 convolution (optionally upsampling 2x), noise, bias, leaky ReLU.

    Implementation: the input is scaled by the styles, convolved with the shared weight, and the output scaled by
    the demodulation coefficients (SG2-ADA's ``fused_modconv=False``), rather than one grouped convolution with a
    weight per sample. Same result; measured on this 2-core CPU at batch 64 (forward + backward of one layer),
    the grouped convolution took 344 ms at 128 channels 8x8 and 72 ms at 64 channels 16x16 against 34 and 42 ms,
    because the shared weight runs through oneDNN's ordinary convolution (which also keeps channels-last and
    bf16 fast) and the demodulation needs only an (N, O) matrix product.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: bool = False):
        super().__init__()
        self.resolution, self.up = resolution, up
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x, w, noise: str = "random"):
        n = x.shape[0]
        styles = self.affine(w)
        dcoefs = _demodulation(styles, self.weight)
        x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
        if self.up:  # stride-2 transposed conv (2H + 1), then the filter with gain 4 and padding 1 (2H)
            x = blur(F.conv_transpose2d(x, self.weight.transpose(0, 1), stride=2), self.fir, pad=1, gain=4)
        else:
            x = F.conv2d(x, self.weight, padding=1)
        x = x * dcoefs.to(x.dtype).reshape(n, -1, 1, 1)
        if noise == "random":
            draw = torch.randn(n, 1, self.resolution, self.resolution, device=x.device)
            x = x + (draw * self.noise_strength).to(x.dtype)
        elif noise == "const":
            x = x + (self.noise_const * self.noise_strength).to(x.dtype)
        return lrelu(x + self.bias.to(x.dtype).reshape(1, -1, 1, 1))


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to the image channels, without demodulation, plus bias (no activation)."""

    def __init__(self, in_channels: int, channels: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.weight_gain = 1 / math.sqrt(in_channels)

    def forward(self, x, w):
        styles = self.affine(w) * self.weight_gain
        x = F.conv2d(x * styles.to(x.dtype).reshape(x.shape[0], -1, 1, 1), self.weight)
        return x + self.bias.to(x.dtype).reshape(1, -1, 1, 1)


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, C, H, H) in [-1, 1]."""

    def __init__(self, w_dim: int, shape: tuple, width: int, max_width: int, use_noise: bool = True):
        super().__init__()
        channels, side = shape[0], shape[1]
        self.w_dim, self.shape, self.use_noise = w_dim, tuple(shape), use_noise
        chans = widths(side, width, max_width)
        res = sorted(chans)
        self.const = nn.Parameter(torch.randn(1, chans[res[0]], res[0], res[0]))
        layers = [SynthesisLayer(chans[res[0]], chans[res[0]], w_dim, res[0])]
        torgbs = [ToRGB(chans[res[0]], channels, w_dim)]
        for low, high in zip(res, res[1:]):
            layers += [SynthesisLayer(chans[low], chans[high], w_dim, high, up=True),
                       SynthesisLayer(chans[high], chans[high], w_dim, high)]
            torgbs.append(ToRGB(chans[high], channels, w_dim))
        self.layers, self.torgbs = nn.ModuleList(layers), nn.ModuleList(torgbs)
        self.num_ws = len(layers) + 1
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, ws, noise: str | None = None):
        if noise is None:
            noise = "random" if self.training else "const"
        if noise not in NOISE_MODES:
            raise ValueError(f"noise must be one of {', '.join(NOISE_MODES)} (or None), got {noise!r}")
        if ws.dim() != 3 or tuple(ws.shape[1:]) != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must have shape (N, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}")
        if not self.use_noise:  # built without noise inputs: every mode draws the image of the ws alone
            noise = "none"
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.layers[0](x, ws[:, 0], noise)
        img = self.torgbs[0](x, ws[:, 1])
        for i, torgb in enumerate(self.torgbs[1:], 1):  # resolution i: w 2i-1, 2i for its convs, 2i+1 for toRGB
            x = self.layers[2 * i - 1](x, ws[:, 2 * i - 1], noise)
            x = self.layers[2 * i](x, ws[:, 2 * i], noise)
            img = upsample2x(img, self.fir) + torgb(x, ws[:, 2 * i + 1])
        # SG2 leaves the image unbounded and clips for display; gancli's generators end in tanh (images in [-1, 1]).
        return torch.tanh(img)


class StyleGAN2Generator(nn.Module):
    """``G(z, labels=None)``, with the W spaces of :mod:`gancli.latents`: ``mapping``, ``synthesis``, ``num_ws``,
    ``w_dim``, ``w_avg`` and ``style_weights()``.

    Style mixing regularisation: in training mode, with probability ``mixing`` a second z replaces the ws from a
    random layer onwards. Every training-mode call draws the same amount of randomness from torch's global RNG
    (a cutoff, a coin and a second z), whether or not it mixes, so a resumed run repeats the same draws.
    """

    def __init__(self, z_dim: int, shape: tuple, num_classes: int = 0, width: int = 16, max_width: int = 128,
                 w_dim: int = 128, mapping_depth: int = 8, mapping_lr_mul: float = 0.01, mixing: float = 0.9,
                 use_noise: bool = True):
        super().__init__()
        self.z_dim, self.num_classes, self.w_dim, self.mixing = z_dim, num_classes, w_dim, mixing
        self.synthesis = SynthesisNetwork(w_dim, shape, width, max_width, use_noise)
        self.mapping = MappingNetwork(z_dim, w_dim, num_classes, mapping_depth, mapping_lr_mul)
        self.num_ws = self.synthesis.num_ws

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping.w_avg

    def style_weights(self) -> list:
        """The effective (equalised-lr gain included) affine maps w -> styles of the synthesis convolutions,
        (in_channels, w_dim) each, in layer order. The toRGB affines are left out, as SeFa's own code and
        rosinality's closed-form factorisation do: they set colour mixing, not image content."""
        return [layer.affine.effective_weight() for layer in self.synthesis.layers]

    def _mix(self, z, labels, ws):
        cutoff = int(torch.randint(1, self.num_ws, ()))
        coin = float(torch.rand(()))
        other = torch.randn_like(z)
        if coin >= self.mixing:
            return ws
        w2 = self.mapping(other, labels, update_w_avg=False).unsqueeze(1)
        return torch.cat([ws[:, :cutoff], w2.expand(-1, self.num_ws - cutoff, -1)], dim=1)

    def forward(self, z, labels=None, noise: str | None = None):
        ws = self.mapping(z, labels).unsqueeze(1).repeat(1, self.num_ws, 1)
        if self.training and self.mixing > 0:
            ws = self._mix(z, labels, ws)
        return self.synthesis(ws, noise)


# ---- discriminator -------------------------------------------------------------------------------------

def group_size(batch: int, wanted: int) -> int:
    """The largest divisor of ``batch`` that is at most ``wanted``: every batch size splits into equal groups."""
    for g in range(min(wanted, batch), 0, -1):
        if batch % g == 0:
            return g
    return 1


class MinibatchStd(nn.Module):
    """Appends one channel: the standard deviation of the features over a group of samples, averaged over
    channels and pixels (the same value for every member of the group). Groups are samples i, i + n, i + 2n...
    of size :func:`group_size` (batch, ``group``)."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x):
        n, c, h, w = x.shape
        g = group_size(n, self.group)
        y = x.float().reshape(g, -1, c, h, w)
        y = ((y - y.mean(dim=0)).square().mean(dim=0) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (var is slower on CPU)
        y = y.to(x.dtype).reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)


class DiscriminatorBlock(nn.Module):
    """Two 3x3 convolutions (the second downsampling) and a downsampling 1x1 skip, summed, times 1/sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, down=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, activation=False, down=True)

    def forward(self, x):
        return self.skip(x, gain=SQRT_HALF) + self.conv1(self.conv0(x), gain=SQRT_HALF)


class StyleGAN2Discriminator(nn.Module):
    """Scores (N,). ``mbstd``: whether the minibatch standard deviation layer is used (it makes a sample's score
    depend on the others in its group)."""

    def __init__(self, shape: tuple, num_classes: int = 0, width: int = 16, max_width: int = 128,
                 mbstd: bool = True, mbstd_group: int = 4):
        super().__init__()
        channels, side = shape[0], shape[1]
        self.num_classes = num_classes
        chans = widths(side, width, max_width)
        res = sorted(chans, reverse=True)
        self.fromrgb = EqualConv2d(channels, chans[side], 1)
        self.blocks = nn.Sequential(*[DiscriminatorBlock(chans[high], chans[low]) for high, low in zip(res, res[1:])])
        c, s0 = chans[res[-1]], res[-1]
        self.mbstd = MinibatchStd(mbstd_group) if mbstd else None
        self.conv = EqualConv2d(c + (1 if mbstd else 0), c, 3)
        self.fc = EqualLinear(c * s0 * s0, c, activation=True)
        self.out = EqualLinear(c, 1)
        self.projection = Projection(num_classes, c) if num_classes else None

    def forward(self, x, labels=None):
        check_labels(labels, self.num_classes)
        h = self.blocks(self.fromrgb(x))
        if self.mbstd is not None:
            h = self.mbstd(h)
        h = self.fc(self.conv(h).flatten(1))
        score = self.out(h).view(-1)
        return score if self.projection is None else score + self.projection(h, labels)
