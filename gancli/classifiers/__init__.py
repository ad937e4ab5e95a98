"""Classifiers that gancli trains itself on a dataset's labels, offline, and caches.

They serve as feature extractors for the image metrics (the penultimate layer), as the class judge of
conditional generators and stacked digits, and as attribute scorers (multi-label). The API:

- :func:`train_classifier` trains a :class:`Classifier` on images and labels, keeping a held-out split
  whose accuracy is recorded with the model;
- :class:`Classifier` has ``features``, ``logits``, ``probabilities`` and ``predict``;
- :func:`save_classifier` / :func:`load_classifier` write and read safetensors files;
- :func:`cached_classifier` returns the cached classifier for a key (dataset, options, shape) or trains,
  saves and returns a new one. The cache lives in ``$GANCLI_CACHE_DIR`` (default ``~/.cache/gancli``);
- :func:`attribute_classifier` does the same for a dataset's attributes (multi-label), with the held-out
  accuracy of each attribute in ``info["accuracy_per_name"]``; by default an :class:`Ensemble` of three
  networks whose logits are averaged (``TrainSettings.members``), trained balanced (``TrainSettings.balance``):
  each image weighted by :func:`balance_weights` so that attributes are pairwise independent under the
  weights, frequencies kept, and the classifier cannot read one attribute from another.
"""

from .attributes import attribute_classifier
from .balance import Balance, balance_weights, weighted_correlation
from .model import Classifier, ConvNet, Ensemble
from .store import CACHE_ENV, cache_dir, cached_classifier, load_classifier, save_classifier
from .train import TrainSettings, train_classifier

__all__ = ["Balance", "CACHE_ENV", "Classifier", "ConvNet", "Ensemble", "TrainSettings", "attribute_classifier",
           "balance_weights", "cache_dir", "cached_classifier", "load_classifier", "save_classifier", "train_classifier",
           "weighted_correlation"]
