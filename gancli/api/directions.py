"""Named directions of a run, and edits along them: what `gancli directions list` and `gancli edit` do."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import GancliError


def saved_directions(target: str, missing_ok: bool = False) -> dict | None:
    """The directions saved in the run of ``target``, as `gancli directions list --json` prints them:
    {"file", "z_dim", "attributes", "classifier", "directions": {name: {"space", "method", "measured", ...}},
    "editors": {name: the same, for the measured per-latent editors}}.
    A run without any is an error that says how to fit some (None with ``missing_ok``)."""
    from ..directions.context import run_folder
    from ..engine.directions import FILE, load_directions

    folder = run_folder(target)
    path = None if folder is None else os.path.join(folder, FILE)
    if path is None or not os.path.isfile(path):
        if missing_ok:
            return None
        raise GancliError(f"{target} has no directions yet; fit some with: gancli directions fit {target} --method "
                          f"interfacegan --attribute smiling (or --method sefa)")
    vectors, meta = load_directions(path)
    records = meta.get("directions", {})
    return {"file": path, "z_dim": meta.get("z_dim"), "attributes": meta.get("attributes", []),
            "classifier": meta.get("classifier"),
            "directions": {n: {"space": meta["spaces"][n], **records.get(n, {})} for n in vectors},
            "editors": meta.get("editors", {})}


@dataclass
class EditResult:
    """An edit strip: ``latents`` (N * S, ...) of ``space`` in strip order (sample by sample, strengths
    across), their ``images``, and ``grid`` (one row per sample, one column per strength)."""

    latents: object
    images: object
    space: str
    strengths: list
    description: str

    @property
    def grid(self):
        """The strip as a :class:`Grid`: one row per latent, one column per strength."""
        from .grid import Grid

        return Grid(self.images, "image", nrow=len(self.strengths))

    def _repr_png_(self):
        return self.grid._repr_png_()


def edit(generator, latents, direction: str, strengths, *, seed: int = 0, latent_space: str = "z",
         space: str | None = None, method: str | None = None, condition_on=(), method_options=None,
         classifier: str | None = None, truncation: float | None = None, cutoff: int | None = None) -> EditResult:
    """See :meth:`gancli.api.generator.Generator.edit`."""
    import torch

    from ..directions.editing import edit as edit_latents
    from ..directions.latents import parse_strengths
    from .registry import registry_for_command

    context = generator.context()
    spaces = context.spaces
    spaces.check_truncation(truncation, cutoff)
    if space:
        spaces.check_space(space)
    if isinstance(strengths, str):
        strengths = parse_strengths(strengths)
    strengths = [float(s) for s in strengths]
    if isinstance(latents, int):
        latents, latent_space = generator.latents(latents, seed), "z"
    else:
        latents = torch.as_tensor(latents, dtype=torch.float32)
        spaces.check_space(latent_space, "latents of space")
        shape = spaces.shape(latent_space)
        if tuple(latents.shape) == shape:
            latents = latents.unsqueeze(0)
        if tuple(latents.shape[1:]) != shape:
            raise GancliError(f"latents of {latent_space} have shape (N, {', '.join(map(str, shape))}), got "
                              f"{tuple(latents.shape)}")
    result = edit_latents(context, registry_for_command(), direction, latents, strengths, method, tuple(condition_on),
                          option_pairs(method_options), classifier, latent_space, space, truncation, cutoff)
    return EditResult(result.rows(), result.images(context), result.space, strengths, result.description)


def option_pairs(options) -> list:
    """A finder's options as the CLI's ["k=v", ...], from a dict or that list (None: none)."""
    if isinstance(options, dict):
        return [f"{key}={value}" for key, value in options.items()]
    return list(options or ())
