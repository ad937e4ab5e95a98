"""What editing and fitting work on: a run's generator, its saved directions and its attribute classifier.

The classifier of a run is, in order: a file the user names (``--classifier``), the run's own
``classifier.safetensors`` (copied there by the first ``gancli directions fit``, and shipped with
pretrained runs), or gancli's cached attribute classifier of the dataset the run was trained on.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from functools import cached_property

from ..engine.directions import FILE as DIRECTIONS_FILE
from ..engine.directions import load_directions
from ..engine.runs import is_run, resolve_target
from ..errors import GancliError
from ..pretrained import is_pretrained

CLASSIFIER_FILE = "classifier.safetensors"


@dataclass
class RunContext:
    """A loaded generator and where its run keeps directions and the classifier."""

    target: str  # as the user named it
    folder: str | None  # the run directory, when there is one
    G: object
    meta: dict
    device: str = "cpu"
    classifier: object = None
    classifier_info: dict = field(default_factory=dict)

    @property
    def z_dim(self) -> int:
        return int(self.meta["z_dim"])

    @cached_property
    def spaces(self):
        """The generator's latent spaces (gancli.latents): every move and image of an edit goes through them."""
        from ..latents import LatentSpaces

        return LatentSpaces.of(self.G, self.meta, self.device)

    @property
    def default_space(self) -> str:
        """Where finders and per-latent editors work unless told: W when the generator has it (the field's
        answer to z-space entanglement), else Z."""
        return "w" if self.spaces.has_w else "z"

    @property
    def directions_path(self) -> str | None:
        return os.path.join(self.folder, DIRECTIONS_FILE) if self.folder else None

    def directions(self) -> tuple[dict, dict]:
        """({name: unit vector}, metadata) of the run; a run without any says how to fit them."""
        path = self.directions_path
        if not path or not os.path.isfile(path):
            raise GancliError(f"{self.target} has no directions yet; fit some with: gancli directions fit "
                              f"{self.target} --method interfacegan --attribute smiling (or --method sefa)")
        vectors, meta = load_directions(path)
        for name, vector in vectors.items():
            space = meta["spaces"][name]
            if space not in self.spaces.spaces:
                raise GancliError(f"direction {name!r} in {path} lives in {space.upper()} space, but this generator has "
                                  f"a Z space only; fit directions for it with gancli directions fit {self.target} "
                                  f"--space z")
            if tuple(vector.shape) != self.spaces.shape(space):
                raise GancliError(f"{path} holds {space} directions of shape {tuple(vector.shape)}, but the generator's "
                                  f"{space} latents have shape {self.spaces.shape(space)}")
        return vectors, meta


def open_run(target: str, registry, device: str = "cpu") -> RunContext:
    """The generator of a run directory, a generator file in one, or ``pretrained:NAME``."""
    from ..engine.models import load_generator

    G, meta = load_generator(target, device=device, registry=registry)
    return run_context(target, G, meta, device)


def run_context(target: str, G, meta: dict, device: str = "cpu") -> RunContext:
    """The context of a generator already loaded from ``target``; conditional and point generators are refused."""
    if int(meta.get("num_classes", 0)):
        raise GancliError(f"{target} is a conditional generator; latent directions and edits need an unconditional "
                          f"one (train without --conditional)")
    if meta.get("spec", {}).get("kind") != "image":
        raise GancliError(f"{target} generates {meta.get('spec', {}).get('kind')}, not images; directions need an "
                          f"image generator and an attribute classifier")
    return RunContext(target, run_folder(target), G, meta, device)


def run_folder(target: str) -> str | None:
    """The run directory that holds ``target`` (itself, or a generator file's run), if any."""
    path = resolve_target(target)
    candidates = [path] if os.path.isdir(path) else [os.path.dirname(os.path.abspath(path))]
    if not os.path.isdir(path):
        candidates.append(os.path.dirname(candidates[0]))  # RUN/checkpoints/step-N.safetensors
    return next((c for c in candidates if is_run(c)), None)


def writable_folder(context: RunContext) -> str:
    """The run directory new directions go to; pretrained runs and lone files are refused."""
    if is_pretrained(context.target):
        raise GancliError(f"{context.target} is shipped read-only; copy {context.folder} to a folder of your own "
                          f"and fit directions there")
    if context.folder is None:
        raise GancliError(f"{context.target} is not in a run directory; directions are saved in a run, so give "
                          f"the run folder")
    return context.folder


def load_classifier_for(context: RunContext, registry, path: str | None = None, progress=None):
    """Set and return the context's attribute classifier (see the module docstring for where it comes from)."""
    from ..classifiers import attribute_classifier, load_classifier

    own = os.path.join(context.folder, CLASSIFIER_FILE) if context.folder else None
    if path:
        if not os.path.isfile(path):
            raise GancliError(f"classifier file {path} does not exist; train one with: gancli classifier train "
                              f"--data NAME -o {path}")
        classifier, source = _loaded(context, path, load_classifier), path
    elif own and os.path.isfile(own):
        classifier, source = _loaded(context, own, load_classifier), own
    else:
        data = context.meta.get("data") or {}
        if not data.get("name"):
            raise GancliError(f"{context.target} does not record its dataset; pass --classifier PATH")
        try:
            classifier, source, _ = attribute_classifier(registry, data["name"], data.get("options", {}),
                                                         progress=progress)
        except GancliError as exc:
            raise GancliError(f"{exc}; or pass --classifier PATH of an attribute classifier (gancli classifier "
                              f"train)") from None
    _check_classifier(classifier, context, source)
    context.classifier = classifier
    context.classifier_info = {"file": os.path.abspath(source), "accuracy": classifier.info.get("accuracy"),
                               "accuracy_per_name": classifier.info.get("accuracy_per_name"),
                               "names": classifier.names}
    return classifier


def _loaded(context: RunContext, path: str, load):
    """The classifier in ``path``: the context's own when it was read from there already (fits in a row then
    share one classifier, and with it the scores of their samples)."""
    if context.classifier is not None and context.classifier_info.get("file") == os.path.abspath(path):
        return context.classifier
    return load(path)


def keep_classifier_with_run(context: RunContext) -> None:
    """Copy the classifier into the run, so later edits and fits use the very one the directions came from."""
    own = os.path.join(context.folder, CLASSIFIER_FILE)
    source = context.classifier_info.get("file")
    if source and not os.path.exists(own) and os.path.abspath(source) != os.path.abspath(own):
        shutil.copyfile(source, own)


def _check_classifier(classifier, context: RunContext, source: str) -> None:
    if classifier.info.get("task") != "multilabel":
        raise GancliError(f"{source} is a class classifier; directions need an attribute (multi-label) classifier")
    shape = tuple(context.meta["spec"]["shape"])
    if tuple(classifier.info["shape"]) != shape:
        raise GancliError(f"{source} classifies images of shape {tuple(classifier.info['shape'])}, but the generator "
                          f"makes {shape}")
