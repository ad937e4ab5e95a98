"""Moving latents: along a saved direction, or by a finder's per-latent editor (classifier gradient)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..components import DirectionInputs
from ..engine.plan import choose
from ..errors import GancliError
from ..options import parse_pairs
from .context import RunContext, load_classifier_for
from .methods import generate
from .names import resolve_attribute, resolve_direction


@dataclass
class Edit:
    """Edited latents (S strengths, N samples, z_dim) and what made them, in words."""

    latents: torch.Tensor
    strengths: list
    description: str

    def images(self, context: RunContext) -> torch.Tensor:
        """(N * S, C, H, W): one row per sample, one column per strength."""
        rows = self.latents.transpose(0, 1).reshape(-1, self.latents.shape[-1])
        return generate(context.G, rows, context.device)

    def rows(self) -> torch.Tensor:
        """The latents in strip order (sample by sample, strengths across), (N * S, z_dim)."""
        return self.latents.transpose(0, 1).reshape(-1, self.latents.shape[-1])


def along_direction(z: torch.Tensor, direction: torch.Tensor, strengths) -> torch.Tensor:
    """(S, N, z_dim): z + s * d for each strength s (d a unit vector, so s is the distance in latent std units)."""
    return torch.stack([z + s * direction for s in strengths])


def edit(context: RunContext, registry, word: str, z: torch.Tensor, strengths, method: str | None = None,
         condition_on=(), method_options=(), classifier: str | None = None) -> Edit:
    """Edit ``z`` by the direction named ``word``, or, with ``method``, by that finder's per-latent editor
    on the attribute ``word`` names."""
    if method is None:
        if condition_on or method_options:
            raise GancliError("--condition-on and --method-opt apply to per-latent editing; add --method gradient "
                              "(or fit a conditional direction with gancli directions fit ... --condition-on)")
        vectors, meta = context.directions()
        name = resolve_direction(word, vectors, meta.get("attributes", ()))
        return Edit(along_direction(z, vectors[name], strengths), list(strengths), f"direction {name}")

    choice = choose(registry, "direction_finder", method, parse_pairs(method_options))
    finder = choice.build()
    if not finder.edits_per_latent:
        raise GancliError(f'direction finder "{choice.entry.name}" has no per-latent editor; fit its direction with '
                          f"gancli directions fit RUN --method {choice.entry.name} and edit without --method (per-latent "
                          f"methods: {', '.join(e.name for e in registry.entries('direction_finder') if e.cls.edits_per_latent)})")
    clf = load_classifier_for(context, registry, classifier)
    attribute = resolve_attribute(word, clf.names)
    conditions = tuple(resolve_attribute(c, clf.names) for c in condition_on)
    inputs = DirectionInputs(generator=context.G, z_dim=context.z_dim, classifier=clf, attribute=attribute,
                             condition_on=conditions, device=context.device)
    latents = finder.edit(inputs, z, list(strengths))
    return Edit(latents, list(strengths), f"{choice.entry.name} on {attribute}")
