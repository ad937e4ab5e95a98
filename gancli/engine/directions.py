"""Named directions in a generator's latent space, stored with the run as RUN/directions.safetensors.

One float32 tensor of shape (z_dim,) and unit norm per direction, named by the direction ("smile",
"class-3", ...), plus gancli JSON metadata: kind "directions", z_dim, and whatever the caller records
(the finder, its options, the attribute behind each direction). Written atomically through
gancli.engine.checkpoint, so reading one never runs code. ``gancli export`` embeds them in the exported
model, so edits work from the exported file alone.
"""

from __future__ import annotations

import os

from ..errors import GancliError
from . import checkpoint
from .runs import is_run, resolve_target

FILE = "directions.safetensors"
KIND = "directions"


def save_directions(path: str, directions: dict, meta: dict | None = None) -> None:
    """Write ``{name: vector}`` (anything torch.as_tensor takes), each normalised to unit length."""
    import torch

    if not directions:
        raise GancliError("there are no directions to save")
    tensors = {}
    for name, vector in directions.items():
        v = torch.as_tensor(vector, dtype=torch.float32).detach().cpu()
        norm = v.norm()
        if v.dim() != 1 or not torch.isfinite(norm) or norm == 0:
            raise GancliError(f"direction {name!r} must be a non-zero finite vector of shape (z_dim,), "
                              f"got shape {tuple(v.shape)}")
        tensors[name] = v / norm
    _same_length(tensors, path)
    z_dim = len(next(iter(tensors.values())))
    checkpoint.save(path, tensors, {**(meta or {}), "kind": KIND, "z_dim": z_dim})


def load_directions(path: str) -> tuple[dict, dict]:
    """({name: float32 tensor (z_dim,)}, metadata) of a directions file."""
    tensors, meta = checkpoint.load(path)
    if meta.get("kind") != KIND:
        raise GancliError(f"{path} is not a directions file (it holds a {meta.get('kind', 'different')} "
                          "checkpoint)")
    if any(t.dim() != 1 for t in tensors.values()):
        raise GancliError(f"{path} is damaged: every direction must be a vector of shape (z_dim,)")
    _same_length(tensors, path)
    return {name: t.float() for name, t in tensors.items()}, meta


def directions_beside(target: str) -> str | None:
    """The directions file of the run that ``target`` (a run directory, a generator file in one, or
    ``pretrained:NAME``) belongs to."""
    target = resolve_target(target)
    if os.path.isdir(target):
        candidates = [target]
    else:  # RUN/generator.safetensors or RUN/checkpoints/step-N.safetensors
        folder = os.path.dirname(os.path.abspath(target))
        candidates = [folder, os.path.dirname(folder)]
    for run in candidates:
        path = os.path.join(run, FILE)
        if is_run(run) and os.path.isfile(path):
            return path
    return None


def _same_length(tensors: dict, path: str) -> None:
    lengths = {len(t) for t in tensors.values()}
    if len(lengths) > 1:
        raise GancliError(f"directions for {path} have different lengths {sorted(lengths)}; "
                          "they must all have the generator's latent size")
