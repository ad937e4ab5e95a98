"""Latent vectors from files (.npy or .safetensors) and the strengths of an edit strip."""

from __future__ import annotations

import os

import numpy as np
import torch

from ..errors import GancliError


def read_latents(path: str, z_dim: int) -> torch.Tensor:
    """(N, z_dim) float32 latents from a .npy array or a .safetensors file (tensor "z", or its only tensor)."""
    if not os.path.isfile(path):
        raise GancliError(f"latent file {path} does not exist")
    if path.lower().endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise GancliError(f"{path} is not a readable .npy array ({exc})") from None
        z = torch.from_numpy(np.asarray(array, dtype=np.float32))
    elif path.lower().endswith(".safetensors"):
        z = _from_safetensors(path)
    else:
        raise GancliError(f"latent file {path} must be .npy or .safetensors")
    if z.dim() == 1:
        z = z[None]
    if z.dim() != 2 or z.shape[1] != z_dim:
        raise GancliError(f"{path} holds latents of shape {tuple(z.shape)}, but this generator takes (N, {z_dim}) "
                          f"(or one vector of {z_dim})")
    if not torch.isfinite(z).all():
        raise GancliError(f"{path} holds non-finite latent values")
    return z


def _from_safetensors(path: str) -> torch.Tensor:
    from safetensors.torch import load_file

    try:
        tensors = load_file(path)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise GancliError(f"{path} is not a readable safetensors file ({str(exc)[:160]})") from None
    if "z" in tensors:
        return tensors["z"].float()
    if len(tensors) == 1:
        return next(iter(tensors.values())).float()
    raise GancliError(f"{path} holds several tensors ({', '.join(sorted(tensors))}); name the latents 'z'")


def save_latents(path: str, z: torch.Tensor) -> None:
    """Write (N, z_dim) latents as .npy or .safetensors (tensor "z")."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if path.lower().endswith(".npy"):
        np.save(path, z.float().numpy())
    elif path.lower().endswith(".safetensors"):
        from safetensors.torch import save_file

        save_file({"z": z.float().contiguous()}, path)
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
