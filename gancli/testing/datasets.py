"""check_dataset: a dataset's bundle has the promised shape, range and labels, and is the same every time."""

from __future__ import annotations

from ..components import DataBundle, Dataset
from ..errors import GancliError
from ..options import resolve
from .common import ContractError, instantiate, one_thread, require


@one_thread
def check_dataset(dataset, options=None) -> DataBundle:
    """Load a :class:`gancli.Dataset` (class or instance) twice and check the bundle; returns it.

    - ``load()`` returns a :class:`gancli.DataBundle` whose ``x`` is a float tensor ``(N, *spec.shape)``,
      N >= 1, finite; images (``spec.kind == "image"``, shape C, H, W) in [-1, 1]; points of shape (2,);
    - ``labels`` is ``None`` (no classes) or int64 ``(N,)`` within ``spec.class_names``;
    - ``attributes`` is ``None`` or, when ``spec.attribute_names`` is set, ``(N, A)`` of 0/1 values;
    - ``notes`` is a list of strings;
    - loading again with the same options gives the same data (evaluation and resume load it again);
    - ``evaluation_splits()``, where the class has it, returns ``{"reference": {...}, "classifier": {...}}``
      (either may be left out) of options its schema accepts.

    Pass small ``options`` (for example ``{"n": 64}``) to keep the test fast.
    """
    import torch

    instance, cls = instantiate(dataset, Dataset, options)
    name = cls.__name__
    bundle = instance.load()
    require(isinstance(bundle, DataBundle), f"{name}.load() must return a gancli.DataBundle, got {type(bundle)}")
    spec, x, labels = bundle.spec, bundle.x, bundle.labels
    require(spec.kind in ("image", "points"), f"{name}: spec.kind must be 'image' or 'points', not {spec.kind!r}")
    if spec.kind == "image":
        require(len(spec.shape) == 3, f"{name}: an image spec's shape is (C, H, W), got {spec.shape}")
    else:
        require(tuple(spec.shape) == (2,), f"{name}: a points spec's shape is (2,), got {spec.shape}")
    require(isinstance(x, torch.Tensor) and x.is_floating_point(), f"{name}: x must be a float tensor")
    require(x.dim() == len(spec.shape) + 1 and tuple(x.shape[1:]) == tuple(spec.shape) and len(x) >= 1,
            f"{name}: x must have shape (N, {', '.join(map(str, spec.shape))}), got {tuple(x.shape)}")
    require(bool(torch.isfinite(x).all()), f"{name}: x has non-finite values")
    if spec.kind == "image":
        require(float(x.min()) >= -1 and float(x.max()) <= 1,
                f"{name}: images must lie in [-1, 1], got [{float(x.min()):.3g}, {float(x.max()):.3g}]")
    if labels is None:
        require(spec.num_classes == 0, f"{name}: spec names {spec.num_classes} classes but labels is None")
    else:
        require(isinstance(labels, torch.Tensor) and labels.dtype == torch.int64 and tuple(labels.shape) == (len(x),),
                f"{name}: labels must be an int64 tensor of shape ({len(x)},)")
        require(spec.num_classes > 0 and int(labels.min()) >= 0 and int(labels.max()) < spec.num_classes,
                f"{name}: labels must lie in 0..{spec.num_classes - 1} (spec.class_names)")
    attributes = getattr(bundle, "attributes", None)
    if spec.attribute_names:
        width = len(spec.attribute_names)
        require(isinstance(attributes, torch.Tensor) and tuple(attributes.shape) == (len(x), width),
                f"{name}: spec names {width} attributes, so attributes must be a (N, {width}) tensor")
        require(bool(((attributes == 0) | (attributes == 1)).all()), f"{name}: attributes must be 0 or 1")
    else:
        require(attributes is None, f"{name}: attributes given but spec.attribute_names is empty")
    require(isinstance(bundle.notes, list) and all(isinstance(n, str) for n in bundle.notes),
            f"{name}: notes must be a list of strings")

    again = instantiate(dataset, Dataset, options)[0].load()
    same = torch.equal(again.x, x) and (labels is None) == (again.labels is None)
    same = same and (labels is None or torch.equal(again.labels, labels)) and again.spec == spec
    again_attributes = getattr(again, "attributes", None)
    same = same and (attributes is None or (isinstance(again_attributes, torch.Tensor)
                                            and torch.equal(again_attributes, attributes)))
    require(same, f"{name}: loading twice with the same options gave different data; draw it from a seeded "
                  "torch.Generator or numpy Generator (evaluation and resume load the data again)")
    _check_evaluation_splits(instance, cls, name)
    return bundle


def _check_evaluation_splits(instance, cls, name: str) -> None:
    """The optional evaluation_splits(): options per role that the dataset's own schema accepts."""
    splits = getattr(instance, "evaluation_splits", None)
    if splits is None:
        return
    splits = splits()
    require(isinstance(splits, dict) and set(splits) <= {"reference", "classifier"}
            and all(isinstance(options, dict) for options in splits.values()),
            f'{name}.evaluation_splits() must return {{"reference": {{options}}, "classifier": {{options}}}}, '
            f"got {splits!r}")
    for role, options in splits.items():
        try:
            resolve(cls.Options, options, name)
        except GancliError as exc:
            raise ContractError(f"{name}.evaluation_splits()[{role!r}]: {exc}") from None
