"""A small style-based generator for the export and generate tests: the W-space protocol of gancli.latents
(mapping, synthesis, num_ws, w_dim, w_avg) with what a real one has that matters to an exporter: normalised z, a
class embedding into the mapping, a learned constant, modulated convolutions, per-layer stored noise with a
strength, upsampling."""

import torch
from torch import nn
from torch.nn import functional as F

from gancli.components import Architecture, DataSpec


class ToyStyleGenerator(nn.Module):
    def __init__(self, z_dim=6, w_dim=5, num_classes=0, channels=1, side=8, width=4):
        super().__init__()
        self.z_dim, self.w_dim, self.num_classes = z_dim, w_dim, num_classes
        self.map = nn.Sequential(nn.Linear(z_dim, w_dim), nn.LeakyReLU(0.2), nn.Linear(w_dim, w_dim))
        self.embed = nn.Embedding(num_classes, w_dim) if num_classes else None
        self.const = nn.Parameter(torch.randn(1, width, 4, 4))
        self.blocks = side.bit_length() - 3  # 4 -> side by doubling
        self.num_ws = self.blocks + 2
        self.styles = nn.ModuleList(nn.Linear(w_dim, width) for _ in range(self.num_ws))
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(self.blocks + 1))
        for i, conv in enumerate(self.convs):
            self.register_buffer(f"noise{i}", torch.randn(1, 1, 4 * 2 ** i, 4 * 2 ** i))
        self.noise_strength = nn.Parameter(torch.full((self.blocks + 1,), 0.1))
        self.to_rgb = nn.Conv2d(width, channels, 1)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def mapping(self, z, labels=None):
        z = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        w = self.map(z)
        return w if self.embed is None else w + self.embed(labels)

    def synthesis(self, ws, noise=None):
        if noise is None:
            noise = "random" if self.training else "const"
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        for i, conv in enumerate(self.convs):
            if i:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = conv(x * (1 + self.styles[i](ws[:, i])[:, :, None, None]))
            if noise == "const":
                x = x + self.noise_strength[i] * getattr(self, f"noise{i}")
            elif noise == "random":
                x = x + self.noise_strength[i] * torch.randn_like(x[:, :1])
            x = F.leaky_relu(x, 0.2)
        return torch.tanh(self.to_rgb(x * (1 + self.styles[-1](ws[:, -1])[:, :, None, None])))

    def style_weights(self):
        return [s.weight for s in self.styles]

    def forward(self, z, labels=None):
        return self.synthesis(self.mapping(z, labels).unsqueeze(1).repeat(1, self.num_ws, 1))


def toy(z_dim=6, w_dim=5, num_classes=0, channels=1, side=8, seed=0):
    """A toy in eval mode with non-trivial weights and its w_avg measured as a trainer would track it."""
    torch.manual_seed(seed)
    G = ToyStyleGenerator(z_dim, w_dim, num_classes, channels, side).eval()
    with torch.no_grad():
        labels = torch.arange(2000) % num_classes if num_classes else None
        G.w_avg.copy_(G.mapping(torch.randn(2000, z_dim), labels).mean(0) + 0.3)  # off the origin, so it matters
    return G


class ToyStyleArchitecture(Architecture):
    """The toy under a plugin's name, so that runs of it go through the whole CLI."""

    def build_generator(self, spec: DataSpec, z_dim: int, num_classes: int = 0):
        return ToyStyleGenerator(z_dim, 5, num_classes, spec.shape[0], spec.shape[1])

    def build_discriminator(self, spec, num_classes=0, batch_independent=False):
        raise NotImplementedError("the toy only generates")
