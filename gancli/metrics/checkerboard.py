"""The checkerboard measure: the share of an image's spectral energy at the frequencies that stride-2
upsampling aliases to (Odena et al. 2016's checkerboard artifacts, seen in the Fourier domain).

Doubling an N/2 x N/2 feature map to N x N by inserting zeros (what a stride-2 transposed convolution does
before its kernel) copies the low-resolution spectrum around the three frequencies (N/2, 0), (0, N/2) and
(N/2, N/2) of the N x N grid, the Nyquist frequency in either axis. The kernel should suppress those copies; when
its overlap is uneven they survive as a pattern of period 2 pixels: the checkerboard.

Definition. For each image and channel, subtract its mean, multiply by a 2-D periodic Hann window (so that the
jump between opposite borders, which the DFT treats as neighbours, does not leak energy along the axes) and take
the 2-D DFT X[ky, kx] (frequencies modulo N). The region S is every frequency within Chebyshev distance ``radius``
(default 1, so 3 x 3 frequencies) of one of the three aliasing peaks, with wrap-around; the window spreads a peak
over exactly its 3 x 3 neighbourhood, so radius 1 holds all of a pure pattern's energy. The measure is

    sum over images and channels of sum_{k in S} |X[k]|^2   /   sum over images and channels of sum_k |X[k]|^2

a share in [0, 1]: 0 for images with no energy there, 1 for a pure checkerboard (-1)^(y + x). Pooling the
energies before dividing keeps nearly blank images from weighing as much as busy ones. It needs an even side.
"""

from __future__ import annotations

import torch


def aliasing_region(height: int, width: int, radius: int = 1) -> torch.Tensor:
    """Bool (H, W) mask of the DFT frequencies within ``radius`` of (H/2, 0), (0, W/2) and (H/2, W/2)."""
    ky = torch.arange(height).view(-1, 1)
    kx = torch.arange(width).view(1, -1)

    def near(k, centre, n):  # circular distance between frequencies modulo n
        d = (k - centre) % n
        return torch.minimum(d, n - d) <= radius

    rows, cols = near(ky, height // 2, height), near(kx, width // 2, width)
    low_rows, low_cols = near(ky, 0, height), near(kx, 0, width)
    return (rows & low_cols) | (low_rows & cols) | (rows & cols)


def hann(n: int) -> torch.Tensor:
    """The periodic Hann window: its DFT has three taps (k = 0, +-1), so it spreads a peak over its neighbours."""
    return 0.5 - 0.5 * torch.cos(2 * torch.pi * torch.arange(n, dtype=torch.float64) / n)


def checkerboard_share(images: torch.Tensor, radius: int = 1, batch: int = 1024) -> float:
    """The share of spectral energy (mean removed) in the aliasing region, pooled over (N, C, H, W) images."""
    height, width = images.shape[-2:]
    if height % 2 or width % 2:
        raise ValueError(f"the checkerboard measure needs an even image side, got {height}x{width}")
    region = aliasing_region(height, width, radius)
    window = hann(height).view(-1, 1) * hann(width).view(1, -1)
    inside = total = 0.0
    for start in range(0, len(images), batch):
        x = images[start:start + batch].double()
        x = (x - x.mean(dim=(-2, -1), keepdim=True)) * window
        energy = torch.fft.fft2(x).abs().pow(2)
        inside += energy[..., region].sum().item()
        total += energy.sum().item()
    return inside / total if total > 0 else 0.0
