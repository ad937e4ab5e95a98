"""Saving, loading and caching classifiers as safetensors files (no pickle) with their metadata."""

from __future__ import annotations

import hashlib
import json
import os
import re

from ..engine import checkpoint
from ..errors import GancliError
from .model import Classifier, ConvNet, Ensemble
from .train import TrainSettings, train_classifier

CACHE_ENV = "GANCLI_CACHE_DIR"


def cache_dir() -> str:
    """``$GANCLI_CACHE_DIR``, or ``~/.cache/gancli``."""
    return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "gancli")


def save_classifier(path: str, classifier: Classifier) -> None:
    """Write the weights and ``info`` (accuracy, names, shape...) atomically."""
    tensors = {f"net.{k}": v for k, v in classifier.net.state_dict().items()}
    checkpoint.save(path, tensors, {"kind": "classifier", **classifier.info})


def load_classifier(path: str) -> Classifier:
    tensors, info = checkpoint.load(path, prefix="net.")
    if info.get("kind") != "classifier":
        raise GancliError(f"{path} is a gancli {info.get('kind', 'file')}, not a classifier")
    info = {k: v for k, v in info.items() if k not in ("kind", "format")}
    members = [ConvNet(info["shape"][0], len(info["names"]), info["width"], info["feature_dim"])
               for _ in range(int(info.get("members", 1)))]
    net = members[0] if len(members) == 1 else Ensemble(members)
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise GancliError(f"{path} does not hold the classifier its metadata describes ({exc})") from None
    return Classifier(net, info)


def cache_path(key: dict, settings: TrainSettings) -> str:
    """A file name that changes whenever the data (``key``) or the training recipe does."""
    text = json.dumps({"key": key, "settings": settings.as_json()}, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    slug = re.sub(r"[^a-z0-9]+", "-", str(key.get("name", "data")).lower()).strip("-") or "data"
    return os.path.join(cache_dir(), "classifiers", f"{slug}-{digest}.safetensors")


def data_fingerprint(x, targets) -> str:
    """A hash of the images and their targets (labels or attributes), so changed data gets a new classifier."""
    digest = hashlib.sha256(x.contiguous().numpy().tobytes())
    digest.update(targets.contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cached_classifier(key: dict, load_data, settings: TrainSettings = TrainSettings(),
                      progress=None) -> tuple[Classifier, str, bool]:
    """(classifier, its file, whether it was trained just now) for the data that ``key`` identifies.

    ``key`` is a JSON-ready dict naming the data exactly (registry name, options, shape); ``load_data()``
    returns ``(x, labels, names)`` and is called only when no usable cached file exists. A damaged cache
    file is replaced.
    """
    path = cache_path(key, settings)
    if os.path.isfile(path):
        try:
            return load_classifier(path), path, False
        except (GancliError, KeyError, TypeError):
            pass  # damaged or from an incompatible version: train again below
    x, labels, names = load_data()
    classifier = train_classifier(x, labels, names, settings, progress)
    classifier.info["key"] = key
    try:
        save_classifier(path, classifier)
    except OSError as exc:
        raise GancliError(f"cannot write the classifier cache {path} ({exc.strerror or exc}); "
                          f"set {CACHE_ENV} to a writable folder") from None
    return classifier, path, True
