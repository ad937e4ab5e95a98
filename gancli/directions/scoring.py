"""The controllable-generation protocol (PROTOCOLS.md section 4): success, drift, latent step and the
re-scoring matrix of a set of edits, judged by an attribute classifier.

For an edit of attribute a at strength ±s (s = 3 latent standard deviations by default):

- **success**: of the samples the classifier scores below 0.5 on a, the fraction pushed above 0.5 at +s,
  pooled with the samples above 0.5 pushed below it at -s;
- **drift**: the mean absolute change of every other attribute's probability, over both signs;
- **latent step**: the mean L2 distance the latents moved, in units of the space's standard deviation;
- the **re-scoring matrix**: for each edit (row) and attribute (column), the mean absolute change of that
  attribute's probability; the row's own attribute is the intended change, the rest is entanglement.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Score:
    name: str
    attribute: str | None
    success: float | None
    drift: float | None
    latent_step: float
    change: dict  # attribute -> mean |Δp| over both signs
    signed: dict  # attribute -> mean (p(+s) - p(-s)) / 2: which way the edit pushes it

    def as_json(self) -> dict:
        return {"name": self.name, "attribute": self.attribute, "success": self.success, "drift": self.drift,
                "latent_step": self.latent_step, "change": self.change, "signed": self.signed}


def score_edit(context, classifier, name: str, attribute: str | None, make_edit, n: int = 500,
               strength: float = 3.0, seed: int = 0) -> Score:
    """Score one edit of the run ``context``; ``make_edit(z, strengths)`` edits Gaussian latents ``z`` and returns
    an :class:`~gancli.directions.editing.Edit` (of any latent space)."""
    names = classifier.names
    z = context.spaces.sample_z(n, seed)
    edited = make_edit(z, [strength, -strength, 0.0])
    p_up, p_down, p0 = (classifier.probabilities(edited.draw(context, latents)) for latents in edited.latents)
    change = ((p_up - p0).abs() + (p_down - p0).abs()).mean(0) / 2
    signed = ((p_up - p_down) / 2).mean(0)
    moved = (edited.latents[:2] - edited.latents[2]).flatten(2).norm(dim=2)
    step = float(moved.mean()) / context.spaces.scale(edited.space)
    success = drift = None
    if attribute is not None:
        a = names.index(attribute)
        below, above = p0[:, a] < 0.5, p0[:, a] >= 0.5
        crossed = int((p_up[below, a] > 0.5).sum()) + int((p_down[above, a] < 0.5).sum())
        success = crossed / n
        others = [i for i in range(len(names)) if i != a]
        drift = float(change[others].mean()) if others else 0.0
    return Score(name, attribute, _round(success), _round(drift), round(step, 4),
                 {k: round(float(v), 4) for k, v in zip(names, change)},
                 {k: round(float(v), 4) for k, v in zip(names, signed)})


def _round(value):
    return None if value is None else round(float(value), 4)
