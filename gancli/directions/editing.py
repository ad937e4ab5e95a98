"""Moving latents: along a saved direction, or by a finder's per-latent editor (classifier gradient), in the
latent space the direction lives in (Z, W or W+; see gancli.latents)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..components import DirectionInputs
from ..engine.plan import choose
from ..errors import GancliError
from ..options import parse_pairs
from .context import RunContext, load_classifier_for
from .names import resolve_attribute, resolve_direction


@dataclass
class Edit:
    """Edited latents (S strengths, N samples, *latent shape) of ``space`` and what made them, in words.

    ``truncation``/``cutoff`` are applied when Z latents are drawn as images (latents of W and W+ were
    truncated before they were moved)."""

    latents: torch.Tensor
    strengths: list
    description: str
    space: str = "z"
    truncation: float | None = None
    cutoff: int | None = None

    def images(self, context: RunContext) -> torch.Tensor:
        """(N * S, C, H, W): one row per sample, one column per strength."""
        return self.draw(context, self.rows())

    def draw(self, context: RunContext, latents: torch.Tensor) -> torch.Tensor:
        """Images of latents of this edit's space (such as one strength's, ``latents[i]``)."""
        truncation = (self.truncation, self.cutoff) if self.space == "z" else (None, None)
        return context.spaces.generate(latents, self.space, None, *truncation)

    def rows(self) -> torch.Tensor:
        """The latents in strip order (sample by sample, strengths across), (N * S, *latent shape)."""
        return self.latents.transpose(0, 1).reshape(-1, *self.latents.shape[2:])


def along_direction(latents: torch.Tensor, direction: torch.Tensor, strengths, unit: float = 1.0) -> torch.Tensor:
    """(S, N, *shape): latents + s * unit * d for each strength s (d a unit vector; ``unit`` the space's standard
    deviation, so s is the distance in latent std units). A W direction moves every layer of W+ latents."""
    step = unit * direction
    return torch.stack([latents + s * step for s in strengths])


def start_latents(context: RunContext, latents: torch.Tensor, source: str, space: str,
                  truncation: float | None = None, cutoff: int | None = None) -> torch.Tensor:
    """The latents to move, in ``space``: drawn or read in ``source`` and converted (truncated on the way into W)."""
    spaces = context.spaces
    spaces.check_truncation(truncation, cutoff)
    if space == "z":
        return latents
    return spaces.convert(latents, source, space, truncation=truncation, cutoff=cutoff)


def along_saved(context: RunContext, name: str, vector: torch.Tensor, space: str, latents: torch.Tensor, strengths,
                source: str = "z", truncation: float | None = None, cutoff: int | None = None) -> Edit:
    """Latents of ``source`` moved along the direction ``vector`` of ``space`` (a W direction moves each layer of
    W+ latents, and of W latents truncated on some layers only; otherwise the latents are converted into the
    direction's space first)."""
    moving = "w+" if space == "w" and (source == "w+" or cutoff is not None) else space
    start = start_latents(context, latents, source, moving, truncation, cutoff)
    moved = along_direction(start, vector, strengths, context.spaces.scale(space))
    return Edit(moved, list(strengths), f"direction {name} in {space}", moving, truncation, cutoff)


def edit(context: RunContext, registry, word: str, latents: torch.Tensor, strengths, method: str | None = None,
         condition_on=(), method_options=(), classifier: str | None = None, source: str = "z",
         space: str | None = None, truncation: float | None = None, cutoff: int | None = None) -> Edit:
    """Edit ``latents`` (of ``source`` space) by the direction named ``word``, or, with ``method``, by that
    finder's per-latent editor on the attribute ``word`` names, in ``space`` (default: the run's; a saved
    direction moves latents in its own space)."""
    spaces = context.spaces
    if method is None:
        if condition_on or method_options:
            raise GancliError("--condition-on and --method-opt apply to per-latent editing; add --method gradient "
                              "(or fit a conditional direction with gancli directions fit ... --condition-on)")
        vectors, meta = context.directions()
        editors = meta.get("editors", {})
        name = resolve_direction(word, [*vectors, *editors], meta.get("attributes", ()),
                                 {**meta.get("directions", {}), **editors})
        if name in editors:  # a measured per-latent editor: the finder's walk with the options it was fitted with
            record = editors[name]
            if space is not None and space != record["space"]:
                raise GancliError(f"{name!r} edits in {record['space']}, not in {space}; drop --space")
            walked = edit(context, registry, record["attribute"], latents, strengths, record["method"],
                          record["condition_on"], record["options"], classifier, source, record["space"],
                          truncation, cutoff)
            walked.description = f"{name}: {walked.description}"
            return walked
        where = meta["spaces"][name]
        if space is not None and space != where:
            raise GancliError(f"direction {name!r} lives in {where}, not in {space}; drop --space or choose a "
                              f"direction of {space} (gancli directions list {context.target})")
        return along_saved(context, name, vectors[name], where, latents, strengths, source, truncation, cutoff)

    space = spaces.check_space(space or (source if source != "z" else context.default_space))
    options = dict(method_options) if isinstance(method_options, dict) else parse_pairs(method_options)
    choice = choose(registry, "direction_finder", method, options)
    finder = choice.build()
    if not finder.edits_per_latent:
        raise GancliError(f'direction finder "{choice.entry.name}" has no per-latent editor; fit its direction with '
                          f"gancli directions fit RUN --method {choice.entry.name} and edit without --method (per-latent "
                          f"methods: {', '.join(e.name for e in registry.entries('direction_finder') if e.cls.edits_per_latent)})")
    clf = load_classifier_for(context, registry, classifier)
    attribute = resolve_attribute(word, clf.names)
    conditions = tuple(resolve_attribute(c, clf.names) for c in condition_on)
    view = spaces.view(space)
    inputs = finder_inputs(context, view, classifier=clf, attribute=attribute, condition_on=conditions)
    start = view.to_view(start_latents(context, latents, source, space, truncation, cutoff))
    moved = finder.edit(inputs, start, list(strengths))
    moved = view.from_view(moved.reshape(-1, view.size)).reshape(len(strengths), len(latents), *view.shape)
    return Edit(moved, list(strengths), f"{choice.entry.name} on {attribute} in {space}", space, truncation, cutoff)


def finder_inputs(context: RunContext, view, **fields) -> DirectionInputs:
    """What a direction finder gets for one latent space of the run (see DirectionInputs)."""
    return DirectionInputs(generator=view.decode, z_dim=view.size, device=context.device, space=view.space,
                           view=view, **fields)
