"""What turns samples into feature vectors (for the Fréchet, kernel and k-NN metrics) and into classes
(for class accuracy and mode counts).

- Built in: a classifier gancli trains on the dataset's own labels (of the split its ``evaluation_splits()``
  names for the classifier, where it has one), cached (gancli.classifiers); for a
  dataset whose channels are images of another dataset (``channel_source()``, as stacked-digits has), a
  classifier of that dataset applied to each channel.
- ``--inception PATH``: NVIDIA's TorchScript Inception-v3 (``inception-2015-12-05.pt``, the network
  StyleGAN2-ADA, StyleGAN3 and clean-fid compute FID with); nothing is downloaded.
- ``--extractor PATH``: any TorchScript module mapping images in [-1, 1] to (N, D) features.
- 2-D points are their own features.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from ..errors import GancliError


class Extractor:
    """``features(x)`` -> (N, D) float64 array; ``classes(x)`` -> (N,) int64 array, or None when it cannot
    classify. ``info`` is JSON-ready and ``info["name"]`` says in words what was used."""

    info: dict

    def features(self, x: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def classes(self, x: torch.Tensor) -> np.ndarray:
        raise NotImplementedError


class ClassifierExtractor(Extractor):
    """A gancli classifier: penultimate-layer features and argmax classes."""

    def __init__(self, classifier, info: dict):
        self.classifier, self.info = classifier, info

    def features(self, x):
        return self.classifier.features(x).double().numpy()

    def classes(self, x):
        return self.classifier.predict(x).numpy()


class ChannelExtractor(ClassifierExtractor):
    """A single-channel classifier applied to each channel: features concatenated; the class is the channels'
    classes read as digits in base K (first channel most significant), the encoding stacked-digits labels use."""

    def _per_channel(self, x, fn):
        n, c = x.shape[:2]
        return fn(x.reshape(n * c, 1, *x.shape[2:])).reshape(n, c, -1)

    def features(self, x):
        return self._per_channel(x, self.classifier.features).reshape(len(x), -1).double().numpy()

    def classes(self, x):
        per_channel = self._per_channel(x, self.classifier.predict).reshape(len(x), -1)
        base = len(self.classifier.info["names"])
        weights = base ** torch.arange(per_channel.shape[1] - 1, -1, -1)
        return (per_channel * weights).sum(1).numpy()


class TorchScriptExtractor(Extractor):
    """A TorchScript feature network from a file the user has on disk."""

    def __init__(self, path: str, inception: bool, device: str = "cpu"):
        self.inception = inception
        self.model = _load_torchscript(path, "Inception weights" if inception else "extractor", device)
        self.device = device
        what = "Inception-v3 pool3 features (NVIDIA TorchScript)" if inception else "TorchScript extractor"
        self.info = {"name": f"{what}: {path}", "type": "inception" if inception else "torchscript",
                     "file": os.path.abspath(path)}

    def features(self, x, batch_size: int = 50):
        parts = []
        with torch.inference_mode():
            for start in range(0, len(x), batch_size):
                batch = x[start:start + batch_size].to(self.device, torch.float32)
                parts.append(self._call(batch).reshape(len(batch), -1).double().cpu())
        return torch.cat(parts).numpy()

    def _call(self, batch):
        if not self.inception:
            return self.model(batch)
        if batch.shape[1] == 1:
            batch = batch.repeat(1, 3, 1, 1)
        elif batch.shape[1] != 3:
            raise GancliError(f"Inception takes grey or RGB images; these have {batch.shape[1]} channels")
        pixels = batch.clamp(-1, 1).add(1).mul(127.5).round()  # the 0..255 values a saved PNG would hold
        return self.model(pixels, return_features=True)  # resizes to 299x299 inside, as in StyleGAN's FID


class PointsExtractor(Extractor):
    """2-D points are their own features."""

    info = {"name": "raw 2-D coordinates", "type": "points"}

    def features(self, x):
        return x.double().numpy()


def _load_torchscript(path: str, what: str, device: str):
    if not os.path.isfile(path):
        raise GancliError(f"{what} file {path} does not exist; give the path of a TorchScript file on this machine "
                          f"(gancli never downloads weights; see docs/evaluate.md)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit is deprecated in favour of torch.export, but works
            return torch.jit.load(path, map_location=device).eval()
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise GancliError(f"{what} file {path} is not a TorchScript module ({reason})") from None


def classifier_extractor(registry, data_name: str, data_options: dict, dataset, bundle,
                         progress=None, robust: bool = False) -> ClassifierExtractor:
    """The cached classifier for this dataset (trained now when missing), as features and classes.

    ``robust``: the classifier trained on noisy and blurred copies too (the default class judge)."""
    from ..classifiers import TrainSettings, cached_classifier
    from ..engine.plan import choose

    settings = TrainSettings(robust=robust)

    channel_source = getattr(dataset, "channel_source", None)
    if channel_source is not None:
        name, options = channel_source()
        channel_bundle = choose(registry, "dataset", name, options).build().load()
        classifier, path, trained = _cached(cached_classifier, name, options, channel_bundle, settings, progress)
        return ChannelExtractor(classifier, _info(classifier, name, path, trained, per_channel=True))
    if (bundle.labels is None or bundle.spec.num_classes < 2) and bundle.attributes is not None:
        return _attribute_extractor(registry, data_name, data_options, bundle, progress)
    if bundle.labels is None or bundle.spec.num_classes < 2:
        raise GancliError(f'dataset "{data_name}" has no class labels to train gancli\'s feature classifier on; '
                          f"pass --inception PATH or --extractor PATH, or use metrics that need no features")
    classifier, path, trained = _cached(cached_classifier, data_name, data_options, bundle, settings, progress)
    return ClassifierExtractor(classifier, _info(classifier, data_name, path, trained, per_channel=False))


class AttributeExtractor(ClassifierExtractor):
    """A multi-label attribute classifier's penultimate features, for data with attributes but no classes (faces,
    CelebA); it names no classes, so class metrics do not apply."""

    def classes(self, x):
        return None


def _attribute_extractor(registry, data_name, data_options, bundle, progress) -> AttributeExtractor:
    """One network trained on the dataset's attributes (not the ensemble editing climbs): features for FD, KID and
    precision/recall where the data has attributes but no classes."""
    from ..classifiers import TrainSettings, attribute_classifier

    classifier, path, trained = attribute_classifier(registry, data_name, data_options, bundle,
                                                     settings=TrainSettings(), progress=progress)
    info = _info(classifier, data_name, path, trained, per_channel=False)
    info["name"] = info["name"].replace("classifier", "attribute classifier", 1)
    return AttributeExtractor(classifier, info)


def _cached(cached_classifier, name, options, bundle, settings, progress):
    return cached_classifier(classifier_key(name, options, bundle),
                             lambda: (bundle.x, bundle.labels, bundle.spec.class_names), settings, progress)


def classifier_key(name: str, options: dict, bundle) -> dict:
    """What identifies a dataset's classifier in the cache: registry name, options, shape and content."""
    from ..classifiers.store import data_fingerprint

    return {"name": name, "options": options, "shape": list(bundle.spec.shape), "count": len(bundle.x),
            "fingerprint": data_fingerprint(bundle.x, bundle.labels)}


def _info(classifier, data_name, path, trained, per_channel) -> dict:
    accuracy = classifier.accuracy
    shape = "x".join(map(str, classifier.info["shape"]))
    robust = bool(classifier.info.get("settings", {}).get("robust"))
    name = (f"gancli {data_name} classifier{', robust' if robust else ''} ({shape}, held-out accuracy "
            f"{accuracy:.1%}, {classifier.feature_dim}-d penultimate features{', per channel' if per_channel else ''})")
    return {"name": name, "type": "classifier", "dataset": data_name, "accuracy": round(accuracy, 5),
            "n_holdout": classifier.info["n_holdout"], "per_channel": per_channel, "robust": robust, "file": path,
            "trained_now": trained}
