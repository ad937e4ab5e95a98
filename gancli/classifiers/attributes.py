"""Multi-label attribute classifiers for datasets that carry attributes (faces, CelebA), cached like the
class classifiers of evaluation: one file per dataset, options and content."""

from __future__ import annotations

from ..errors import GancliError
from .store import cached_classifier, data_fingerprint
from .train import TrainSettings

# Attribute classifiers steer gradient edits: an ensemble's averaged gradient carries over to other
# classifiers (docs/controllable.md measures how much), where a single network's is partly its own quirks.
# They are trained balanced (gancli.classifiers.balance): weighted so that attributes are pairwise independent,
# they cannot read one attribute from another the data happens to pair it with (an open mouth from a smile).
ATTRIBUTE_SETTINGS = TrainSettings(members=3, balance=True)


def attribute_classifier(registry, data_name: str, data_options: dict, bundle=None, settings=ATTRIBUTE_SETTINGS,
                         progress=None):
    """(classifier, file, trained now) for a dataset's attributes; the dataset is loaded unless ``bundle`` is given."""
    from ..engine.plan import choose

    choice = choose(registry, "dataset", data_name, data_options)
    if bundle is None:
        bundle = choice.build().load()
    if bundle.attributes is None or not bundle.spec.attribute_names:
        raise GancliError(f'dataset "{choice.entry.name}" has no attributes to train an attribute classifier on; '
                          f"use one that has (faces, celeba:PATH)")
    key = {"name": choice.entry.name, "task": "attributes", "options": choice.options,
           "shape": list(bundle.spec.shape), "count": len(bundle.x),
           "fingerprint": data_fingerprint(bundle.x, bundle.attributes)}
    return cached_classifier(key, lambda: (bundle.x, bundle.attributes, bundle.spec.attribute_names), settings,
                             progress)
