"""Latents of any space in files (.npy or .safetensors) and the strengths of an edit strip."""

from __future__ import annotations

import os

import numpy as np
import torch

from ..errors import GancliError
from ..runtime.latent_files import TENSOR_NAMES, checked, read_file


def read_latents(path: str, spaces, space: str | None = None) -> tuple[torch.Tensor, str]:
    """(latents, their space) from a .npy array or a .safetensors file, checked against the generator's
    :class:`gancli.latents.LatentSpaces`, by the conventions of gancli.runtime.latent_files: a .safetensors file
    names its space by its tensor ("z", "w" or "ws" for W+); a .npy array of three dimensions holds W+ latents,
    otherwise latents of ``space`` (default Z)."""
    array, space = read_file(path, space)
    spaces.check_space(space, f"latents of {path} are in space")
    return torch.from_numpy(checked(array, path, space, spaces.shape(space))), space


def save_latents(path: str, latents: torch.Tensor, space: str = "z") -> None:
    """Write latents of ``space`` as .npy or .safetensors (tensor "z", "w" or "ws")."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if path.lower().endswith(".npy"):
        np.save(path, latents.float().numpy())
    elif path.lower().endswith(".safetensors"):
        from safetensors.torch import save_file

        save_file({TENSOR_NAMES[space]: latents.float().contiguous()}, path)
    else:
        raise GancliError(f"--save-latents {path} must end in .npy or .safetensors")


def parse_strengths(text: str) -> list[float]:
    """``START:STOP:COUNT`` (evenly spaced, both ends included) or a comma list such as ``-2,0,2``."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            count = int(count)
            if count < 1:
                raise ValueError
            values = np.linspace(float(start), float(stop), count).tolist() if count > 1 else [float(start)]
        else:
            values = [float(part) for part in text.split(",")]
    except ValueError:
        raise GancliError(f"--strength takes START:STOP:COUNT (for example -3:3:7) or a list such as -2,0,2; "
                          f"got {text!r}") from None
    if not all(np.isfinite(values)):
        raise GancliError(f"--strength values must be finite numbers, got {text!r}")
    return [round(v, 6) for v in values]
