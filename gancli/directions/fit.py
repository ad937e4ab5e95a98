"""``gancli directions fit``: run a direction finder on a run's generator and add its directions to the run."""

from __future__ import annotations

import os

from ..engine.directions import load_directions, save_directions
from ..engine.plan import choose
from ..errors import GancliError
from ..options import parse_pairs
from .context import RunContext, keep_classifier_with_run, load_classifier_for, writable_folder
from .editing import finder_inputs
from .names import editor_name, in_space, resolve_attribute


def fit_directions(context: RunContext, registry, method: str, attribute: str | None = None, condition_on=(),
                   method_options=(), classifier: str | None = None, seed: int = 0, progress=None,
                   space: str | None = None, measure_samples: int = 200) -> dict:
    """Find directions with the finder ``method`` in latent ``space`` (default: W when the generator has it, else
    Z) and merge them into RUN/directions.safetensors (a direction of the same name is replaced), each supervised
    one measured on ``measure_samples`` latents (and the finder's per-latent editor beside it; 0: unmeasured).
    Returns {name: what was recorded about it}."""
    folder = writable_folder(context)
    space = context.spaces.check_space(space or context.default_space)
    options = parse_pairs(method_options) if isinstance(method_options, (list, tuple)) else dict(method_options)
    choice = choose(registry, "direction_finder", method, options)
    finder = choice.build()
    view = context.spaces.view(space)
    inputs = finder_inputs(context, view, seed=seed)
    if finder.supervised:
        if not attribute:
            raise GancliError(f'direction finder "{choice.entry.name}" is supervised: name the attribute with '
                              f"--attribute (for example --attribute smiling)")
        clf = load_classifier_for(context, registry, classifier, progress)
        inputs.classifier = clf
        inputs.attribute = resolve_attribute(attribute, clf.names)
        inputs.condition_on = tuple(resolve_attribute(c, clf.names) for c in condition_on)
        if inputs.attribute in inputs.condition_on:
            raise GancliError(f"--condition-on cannot name the target attribute {inputs.attribute} itself")
    elif attribute or condition_on:
        raise GancliError(f'direction finder "{choice.entry.name}" is unsupervised: it takes no --attribute or '
                          f"--condition-on")
    found = finder.find(inputs)

    path = context.directions_path
    vectors, meta = load_directions(path) if os.path.isfile(path) else ({}, {"spaces": {}})
    records, spaces = dict(meta.get("directions", {})), dict(meta["spaces"])
    recorded = {}
    for found_name, vector in found.items():
        name = in_space(found_name, space)
        vectors[name], spaces[name] = view.direction_to_space(vector), space
        recorded[name] = {"method": choice.entry.name, "options": choice.options, "seed": seed, "space": space,
                          **({"attribute": inputs.attribute, "condition_on": list(inputs.condition_on)}
                             if finder.supervised else {})}
        records[name] = recorded[name]
    editors = dict(meta.get("editors", {}))
    if finder.supervised and measure_samples:
        for name in recorded:
            recorded[name]["measured"] = measure(context, inputs.classifier, name, vectors[name], space,
                                                 inputs.attribute, seed, measure_samples)
        if finder.edits_per_latent:  # its walk competes with the saved directions for --direction ATTRIBUTE
            for name, record in recorded.items():
                editors[editor_name(name)] = {**record, "measured": measure_editor(context, registry, record,
                                                                                   classifier, measure_samples)}
    meta = {**meta, "directions": records, "editors": editors}
    if finder.supervised:
        meta["attributes"] = inputs.classifier.names
        meta["classifier"] = {k: v for k, v in context.classifier_info.items() if k != "file"}
        keep_classifier_with_run(context)
    save_directions(os.path.join(folder, os.path.basename(path)), vectors,
                    {k: v for k, v in meta.items() if k not in ("kind", "z_dim", "format", "spaces")}, spaces)
    return recorded


def measure(context: RunContext, classifier, name: str, vector, space: str, attribute: str, seed: int,
            samples: int) -> dict:
    """Success and drift of moving along a fitted direction at strength 3 (PROTOCOLS.md section 4), scored by
    the run's classifier on latents the finder never sampled: what ``--direction ATTRIBUTE`` picks by."""
    from .editing import along_saved

    return _measured(context, classifier, name, attribute, seed, samples,
                     lambda z, strengths: along_saved(context, name, vector, space, z, strengths))


def measure_editor(context: RunContext, registry, record: dict, classifier: str | None, samples: int) -> dict:
    """The same figures for the finder's per-latent editor with the options of ``record`` (one fit's). The
    editor climbs the classifier that scores it, so it measures better here than by an independent judge;
    docs/controllable.md reports both."""
    from .editing import edit

    return _measured(context, context.classifier, record["method"], record["attribute"], record["seed"], samples,
                     lambda z, strengths: edit(context, registry, record["attribute"], z, strengths,
                                               record["method"], record["condition_on"], record["options"],
                                               classifier, space=record["space"]))


def _measured(context: RunContext, classifier, name: str, attribute: str, seed: int, samples: int,
              make_edit) -> dict:
    from .scoring import score_edit

    score = score_edit(context, classifier, name, attribute, make_edit, samples, seed=seed + 1)
    return {"success": score.success, "drift": score.drift, "samples": samples,
            "judge": "the run's attribute classifier"}
