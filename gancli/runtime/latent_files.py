"""Latent files for ``gancli generate``, read with numpy (no torch), by the conventions of ``gancli edit``.

A .npy array of three dimensions holds W+ latents (N, num_ws, w_dim); otherwise its latents are of the space
given (``--latent-space``; default Z). A .safetensors file names its space by its tensor: "z", "w" or "ws" (W+)
(reading one needs the safetensors package). One latent may be given without the batch dimension.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import GancliError

TENSOR_NAMES = {"z": "z", "w": "w", "w+": "ws"}


def read_latents(path: str, generator, space: str | None = None) -> tuple[np.ndarray, str]:
    """(float32 latents (N, *shape), their space) from ``path``, checked against what ``generator`` (an
    :class:`~gancli.runtime.onnx_generator.OnnxGenerator`) can take."""
    array, space = read_file(path, space)
    info = generator.info
    if space not in generator.spaces:
        if space != "z" and not info.has_w:
            raise GancliError(f"{path} holds {space} latents, but {generator.path} was exported from a generator "
                              "with a Z space only; give z latents")
        raise GancliError(f"{path} holds {space} latents, but {generator.path} takes z: feed W latents to a "
                          "synthesis-only export (gancli export RUN --onnx OUT.onnx --synthesis-only)")
    return checked(array, path, space, generator.shape(space)), space


def read_file(path: str, space: str | None = None) -> tuple[np.ndarray, str]:
    """(the array in ``path``, the space it holds: named by the file, else ``space``, else Z)."""
    if not os.path.isfile(path):
        raise GancliError(f"latent file {path} does not exist")
    if path.lower().endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise GancliError(f"{path} is not a readable .npy array ({exc})") from None
        found = "w+" if array.ndim == 3 else None
    elif path.lower().endswith(".safetensors"):
        array, found = _from_safetensors(path)
    else:
        raise GancliError(f"latent file {path} must be .npy or .safetensors")
    if found and space and found != space:
        raise GancliError(f"{path} holds {found} latents, not {space}; drop --latent-space or give {space} latents")
    return array, found or space or "z"


def checked(array: np.ndarray, path: str, space: str, shape: tuple) -> np.ndarray:
    """``array`` as float32 latents (N, *shape): real, finite and of the generator's shape for ``space``."""
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise GancliError(f"{path} holds {array.dtype} values, not real numbers")
    latents = np.asarray(array, dtype=np.float32)
    if latents.ndim == len(shape):
        latents = latents[None]
    if tuple(latents.shape[1:]) != tuple(shape) or len(latents) == 0:
        wanted = ", ".join(map(str, shape))
        raise GancliError(f"{path} holds latents of shape {tuple(latents.shape)}, but this generator's {space} "
                          f"latents have shape (N, {wanted})")
    if not np.isfinite(latents).all():
        raise GancliError(f"{path} holds non-finite latent values")
    return np.ascontiguousarray(latents)


def _from_safetensors(path: str):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise GancliError(f"reading {path} needs the safetensors package (pip install safetensors); or give the "
                          "latents as .npy") from None
    try:
        tensors = load_file(path)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise GancliError(f"{path} is not a readable safetensors file ({str(exc)[:160]})") from None
    for space, name in TENSOR_NAMES.items():
        if name in tensors:
            return tensors[name], space
    if len(tensors) == 1:
        return next(iter(tensors.values())), None
    raise GancliError(f"{path} holds several tensors ({', '.join(sorted(tensors))}); name the latents "
                      f"'z', 'w' or 'ws' (W+)")
