"""Named directions in a generator's latent space, stored with the run as RUN/directions.safetensors.

One float32 tensor of unit norm per direction, named by the direction ("smile", "class-3", ...), plus gancli
JSON metadata: kind "directions", z_dim, ``spaces`` (the latent space each direction lives in: "z", shape
(z_dim,); "w", shape (w_dim,); "w+", shape (num_ws, w_dim); a file without it holds Z directions) and whatever
the caller records (the finder, its options, the attribute behind each direction, what it measured at). Written atomically through
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


def save_directions(path: str, directions: dict, meta: dict | None = None, spaces: dict | None = None) -> None:
    """Write ``{name: vector}`` (anything torch.as_tensor takes), each normalised to unit length; ``spaces``
    maps names to their latent space (default "z")."""
    import torch

    if not directions:
        raise GancliError("there are no directions to save")
    spaces = {name: (spaces or {}).get(name, "z") for name in directions}
    tensors = {}
    for name, vector in directions.items():
        v = torch.as_tensor(vector, dtype=torch.float32).detach().cpu()
        norm = v.norm()
        if v.dim() != _RANK[spaces[name]] or not torch.isfinite(norm) or norm == 0:
            raise GancliError(f"direction {name!r} of space {spaces[name]} must be a non-zero finite tensor of "
                              f"{_RANK[spaces[name]]} dimension(s), got shape {tuple(v.shape)}")
        tensors[name] = v / norm
    _same_shapes(tensors, spaces, path)
    z_dims = [len(t) for n, t in tensors.items() if spaces[n] == "z"]
    extra = {"z_dim": z_dims[0]} if z_dims else {}
    checkpoint.save(path, tensors, {**(meta or {}), "kind": KIND, **extra, "spaces": spaces})


def load_directions(path: str) -> tuple[dict, dict]:
    """({name: float32 tensor}, metadata) of a directions file; ``meta["spaces"]`` names each one's space."""
    tensors, meta = checkpoint.load(path)
    if meta.get("kind") != KIND:
        raise GancliError(f"{path} is not a directions file (it holds a {meta.get('kind', 'different')} "
                          "checkpoint)")
    recorded = meta.get("spaces") or {}
    spaces = {name: recorded.get(name, "z") for name in tensors}
    if any(space not in _RANK or t.dim() != _RANK[space] for space, t in zip(spaces.values(), tensors.values())):
        raise GancliError(f"{path} is damaged: a direction's shape does not fit its latent space")
    _same_shapes(tensors, spaces, path)
    return {name: t.float() for name, t in tensors.items()}, {**meta, "spaces": spaces}


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


_RANK = {"z": 1, "w": 1, "w+": 2}


def _same_shapes(tensors: dict, spaces: dict, path: str) -> None:
    for space in _RANK:
        shapes = {tuple(t.shape) for name, t in tensors.items() if spaces[name] == space}
        if len(shapes) > 1:
            raise GancliError(f"{space} directions for {path} have different shapes {sorted(shapes)}; they must all "
                              f"have the generator's latent shape")
