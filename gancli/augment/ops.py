"""Differentiable image transformations, each in two halves: draw the random choices, then apply them.

Drawing and applying are separate so that the trainer can draw a global batch's choices from the shared random
stream and give each process its slice (see gancli/engine/distributed.py), and so that a draw consumes the same
random numbers whatever the probability: a resumed or data-parallel run then repeats every choice exactly.

Images are (N, C, H, W) in [-1, 1]. Every ``apply_*`` is differentiable with respect to the images; ``mask`` is a
(N,) bool tensor of the images that are transformed (each with probability p), the others pass unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def chosen(n: int, p, device) -> torch.Tensor:
    """Which of n images a transformation touches: each with probability ``p`` (a number or 0-dim tensor)."""
    return torch.rand(n, device=device) < p


def _blend(mask: torch.Tensor, changed: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, 1, 1, 1), changed, x)


# ---- colour (DiffAugment's rand_brightness, rand_saturation, rand_contrast) ---------------------------------
def draw_color(n: int, p, device, brightness: float, saturation: float, contrast: float) -> dict:
    uniform = torch.rand(3, n, device=device)
    return {"mask": chosen(n, p, device),
            "brightness": (uniform[0] * 2 - 1) * brightness,  # added, in [-b, b]
            "saturation": 1 + (uniform[1] * 2 - 1) * saturation,  # factor in [1 - s, 1 + s]
            "contrast": 1 + (uniform[2] * 2 - 1) * contrast}


def apply_color(x: torch.Tensor, params: dict) -> torch.Tensor:
    b, s, c = (params[k].view(-1, 1, 1, 1).to(x.dtype) for k in ("brightness", "saturation", "contrast"))
    y = x + b
    if x.shape[1] > 1:  # saturation: away from (or towards) each pixel's grey value; nothing to do on grey images
        grey = y.mean(dim=1, keepdim=True)
        y = grey + (y - grey) * s
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    y = mean + (y - mean) * c
    return _blend(params["mask"], y, x)


# ---- translation (integer shifts, the border reflected, repeated or zero-filled into the gap) ------------------
def draw_translation(n: int, p, device, ratio: float, height: int, width: int) -> dict:
    uniform = torch.rand(2, n, device=device)
    reach_y, reach_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    return {"mask": chosen(n, p, device),
            "dy": _integer_in(uniform[0], reach_y), "dx": _integer_in(uniform[1], reach_x)}


def _integer_in(uniform: torch.Tensor, reach: int) -> torch.Tensor:
    """A uniform integer in [-reach, reach] from a uniform number in [0, 1)."""
    return (uniform * (2 * reach + 1)).floor().long().clamp(max=2 * reach) - reach


def apply_translation(x: torch.Tensor, params: dict, ratio: float, pad: str) -> torch.Tensor:
    n, c, h, w = x.shape
    reach = min(max(int(h * ratio + 0.5), int(w * ratio + 0.5)), h - 1, w - 1)  # reflection reaches < a side
    if reach < 1:
        return x
    padded = F.pad(x, (reach,) * 4, mode=pad if pad in ("reflect", "replicate") else "constant")
    dy, dx = params["dy"].clamp(-reach, reach), params["dx"].clamp(-reach, reach)
    rows = torch.arange(h, device=x.device).view(1, h) + reach - dy.view(n, 1)
    cols = torch.arange(w, device=x.device).view(1, w) + reach - dx.view(n, 1)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    channel = torch.arange(c, device=x.device).view(1, c, 1, 1)
    shifted = padded[batch, channel, rows.view(n, 1, h, 1), cols.view(n, 1, 1, w)]
    return _blend(params["mask"], shifted, x)


# ---- cutout (a square set to 0, mid-grey in [-1, 1], as DiffAugment) ----------------------------------------
def draw_cutout(n: int, p, device, height: int, width: int) -> dict:
    uniform = torch.rand(2, n, device=device)
    return {"mask": chosen(n, p, device), "cy": (uniform[0] * height).long(), "cx": (uniform[1] * width).long()}


def apply_cutout(x: torch.Tensor, params: dict, ratio: float) -> torch.Tensor:
    n, _, h, w = x.shape
    half_h, half_w = int(h * ratio + 0.5) // 2, int(w * ratio + 0.5) // 2
    rows = torch.arange(h, device=x.device).view(1, h)
    cols = torch.arange(w, device=x.device).view(1, w)
    inside_rows = (rows - params["cy"].view(n, 1)).abs() <= half_h
    inside_cols = (cols - params["cx"].view(n, 1)).abs() <= half_w
    hole = inside_rows.view(n, 1, h, 1) & inside_cols.view(n, 1, 1, w)
    return _blend(params["mask"], x * (~hole).to(x.dtype), x)
