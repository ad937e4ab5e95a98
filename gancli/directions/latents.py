"""Latents of any space in files (.npy or .safetensors) and the strengths of an edit strip."""

from __future__ import annotations

import os

import numpy as np
import torch

from ..errors import GancliError


TENSOR_NAMES = {"z": "z", "w": "w", "w+": "ws"}  # the tensor a .safetensors latent file names its space by


def read_latents(path: str, spaces, space: str | None = None) -> tuple[torch.Tensor, str]:
    """(latents, their space) from a .npy array or a .safetensors file, checked against the generator's
    :class:`gancli.latents.LatentSpaces`. A .safetensors file names its space by its tensor ("z", "w" or "ws" for
    W+); a .npy array of three dimensions holds W+ latents, otherwise latents of ``space`` (default Z)."""
    if not os.path.isfile(path):
        raise GancliError(f"latent file {path} does not exist")
    if path.lower().endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise GancliError(f"{path} is not a readable .npy array ({exc})") from None
        latents = torch.from_numpy(np.asarray(array, dtype=np.float32))
        found = "w+" if latents.dim() == 3 else None
    elif path.lower().endswith(".safetensors"):
        latents, found = _from_safetensors(path)
    else:
        raise GancliError(f"latent file {path} must be .npy or .safetensors")
    if found and space and found != space:
        raise GancliError(f"{path} holds {found} latents, not {space}; drop --latent-space or give {space} latents")
    space = spaces.check_space(found or space or "z", f"latents of {path} are in space")
    shape = spaces.shape(space)
    if latents.dim() == len(shape):
        latents = latents[None]
    if tuple(latents.shape[1:]) != shape:
        wanted = ", ".join(map(str, shape))
        raise GancliError(f"{path} holds latents of shape {tuple(latents.shape)}, but this generator's {space} latents "
                          f"have shape (N, {wanted})")
    if not torch.isfinite(latents).all():
        raise GancliError(f"{path} holds non-finite latent values")
    return latents, space


def _from_safetensors(path: str) -> tuple[torch.Tensor, str | None]:
    from safetensors.torch import load_file

    try:
        tensors = load_file(path)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise GancliError(f"{path} is not a readable safetensors file ({str(exc)[:160]})") from None
    for space, name in TENSOR_NAMES.items():
        if name in tensors:
            return tensors[name].float(), space
    if len(tensors) == 1:
        return next(iter(tensors.values())).float(), None
    raise GancliError(f"{path} holds several tensors ({', '.join(sorted(tensors))}); name the latents "
                      f"'z', 'w' or 'ws' (W+)")


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
