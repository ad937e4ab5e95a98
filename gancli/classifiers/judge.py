"""The independent judge of edits on faces (PROTOCOLS.md section 4): an attribute classifier that shares nothing
with what it judges.

A judge trained on the generator's faces, where an open mouth comes with 80% of smiles (``correlation`` 0.6),
reads an open mouth partly from the smile; it then cannot see a smile edit that opens the mouth, and shares the
blind spot of the classifier the edit climbed. This judge is trained on faces drawn with ``correlation=0``
(smile and open mouth independent) from a data seed and a network seed that nothing else uses: not the
generator's data (faces seed 0), not the classifier editing climbs (network seeds 0, 1000, 2000), not the old
judges (network seeds 1 and 2 on the generator's data). It is one network, trained on the data as drawn:
independence comes from the drawing, not from weights.

``JUDGE_TEST`` names another unused seed: held-out correlation-0 faces on which every judge's accuracy and
its P(mouth_open) by smile are measured (bench/directions.py).
"""

from __future__ import annotations

from .attributes import attribute_classifier
from .train import TrainSettings

JUDGE_DATA = {"correlation": 0.0, "seed": 977}  # faces options: independent attributes, a seed of its own
JUDGE_SETTINGS = TrainSettings(seed=7)  # one network, unbalanced (the data has nothing to balance)
JUDGE_TEST = {"correlation": 0.0, "seed": 4977, "n": 4000}  # held-out faces for checking any judge


def faces_judge(registry, size: int = 32, progress=None):
    """(classifier, its cached file) of the independent faces judge at ``size`` pixels (trained on first use)."""
    classifier, path, _ = attribute_classifier(registry, "faces", {**JUDGE_DATA, "size": size},
                                               settings=JUDGE_SETTINGS, progress=progress)
    return classifier, path
