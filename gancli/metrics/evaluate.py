"""The evaluator: each chosen metric on generated samples, and its floor on two disjoint halves of the real data.

The real data is split once (a fixed seed) into halves A and B. Generated samples are compared with A;
the floor compares B with A the same way and with the same number of samples, so the two figures sit side
by side: a generator cannot be expected to beat the floor, which is what sampling noise alone gives.

The real data is the training data, unless its dataset names other splits for evaluation
(``evaluation_splits()``: Fashion-MNIST is compared with its test split, and gancli's classifier is trained on
its training split); ``--data-opt`` still has the last word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .. import __version__
from ..components import EvalSetting, MetricInputs
from ..errors import GancliError
from ..options import resolve, schema, to_kwargs
from .extractors import PointsExtractor, TorchScriptExtractor, classifier_extractor
from .sources import SampleSource

SPLIT_SEED = 0  # the real halves never change with --seed, so floors are stable
FEATURE_CAP = 10_000  # samples per side for the feature metrics (k-NN distances grow as the square)


@dataclass
class EvalRequest:
    """What the user asked for; ``None`` means the default."""

    metrics: list | None = None  # registry names
    metric_options: dict | None = None  # {"kid.subsets": "50"} or {"subsets": "50"} for every metric that has it
    n: int | None = None
    seed: int = 0
    data: str | None = None  # "NAME" or "NAME:ARGUMENT": compare against this instead of the training data
    data_options: dict | None = None
    inception: str | None = None
    extractor: str | None = None
    judge: str = "robust"  # the classifier that gives samples their class: "robust" or "plain" (see JUDGES)
    device: str = "cpu"


# The class judge (modes, class-accuracy). "robust" is trained on noisy and blurred copies too: on held-out digits
# with noise of std 0.3 the plain classifier is right on 50% and the robust one on 99% (docs/evaluate.md), so
# with the plain one a generator's speckle decides the class. "plain" is the feature extractor's classifier.
JUDGES = ("robust", "plain")


class Evaluator:
    """Prepared once per dataset (data, halves, extractors, floors); ``score(source)`` per generator."""

    def __init__(self, registry, request: EvalRequest, source: SampleSource, say=print, progress=None):
        self.registry, self.request, self.say, self.progress = registry, request, say, progress
        trained_on = self._data_choice(source)
        self.data_choice = self._split_choice(trained_on, "reference", request.data_options)
        self._classifier_choice = self._split_choice(trained_on, "classifier")
        self._classifier_source = None  # (choice, dataset, bundle) the classifier trains on, loaded when needed
        self.dataset = self.data_choice.build()
        self.bundle = self.dataset.load()
        for note in self.bundle.notes:
            say(note)
        spec = self.bundle.spec
        self.setting = EvalSetting(self.data_choice.entry.name, dict(self.data_choice.options), spec,
                                   source.num_classes)
        self.check_source(source)
        self.metrics = self._choose_metrics()
        self.needs = {need for _, metric in self.metrics for need in metric.needs}
        (self.real_a, _), (self.real_b, self.labels_b) = self._halves()  # compared against / floor
        self.n = request.n or self._default_n()
        self._classifiers = {}  # robust? -> ClassifierExtractor, each built once
        self.extractor = self._feature_extractor() if "features" in self.needs else None
        self.judge = self._judge() if "classes" in self.needs else None
        self.n_feature = min(self.n, len(self.real_a), FEATURE_CAP)
        self.n_floor = min(self.n, len(self.real_b))
        self.real_features = self.extractor.features(self.real_a[:self.n_feature]) if self.extractor else None
        self.floors = self._compute(self.real_b[:self.n_floor], self._slice_labels(self.labels_b, self.n_floor))

    # ---- preparation ----------------------------------------------------------------------------
    def _data_choice(self, source: SampleSource):
        from ..engine.plan import choose, data_choice, missing_component_message, parse_or_dict

        request = self.request
        if request.data:
            return data_choice(self.registry, request.data, parse_or_dict(request.data_options or {}))
        if not source.data:
            raise GancliError(f"{source.description} does not record the dataset it was trained on; "
                              f"pass --data NAME and the --data-opt values it was trained with")
        item = source.data
        if not self.registry.has("dataset", item.get("name", "")):
            raise GancliError(missing_component_message("dataset", item))
        options = {**item.get("options", {}), **parse_or_dict(request.data_options or {})}
        return choose(self.registry, "dataset", item["name"], options)

    def _split_choice(self, choice, role: str, overrides=None):
        """The data evaluation uses as ``role``: "reference" (what samples are compared with) or "classifier" (what
        gancli's classifier trains on). A dataset whose class has ``evaluation_splits()``, returning options per
        role (``{"reference": {"split": "test"}, "classifier": {"split": "train"}}``), gets them laid over the
        options it was trained with, and ``overrides`` (the user's --data-opt) over those; others keep ``choice``."""
        from ..engine.plan import choose, parse_or_dict

        splits = getattr(choice.build(), "evaluation_splits", None)  # building a dataset loads nothing
        options = (splits() or {}).get(role) if splits else None
        if not options:
            return choice
        merged = {**choice.options, **options, **parse_or_dict(overrides or {})}
        return choose(self.registry, "dataset", choice.entry.name, merged)

    def check_source(self, source: SampleSource) -> None:
        """A generator whose samples cannot be compared with this dataset is refused."""
        spec, name = self.setting.spec, self.setting.data_name
        if tuple(source.spec.shape) != tuple(spec.shape) or source.spec.kind != spec.kind:
            raise GancliError(f"the generator makes {source.spec.kind} of shape {tuple(source.spec.shape)} but dataset "
                              f'"{name}" gives {spec.kind} of shape {tuple(spec.shape)}; evaluate against the data '
                              f"it was trained on (or pass --data with matching options, e.g. --data-opt size=...)")
        if source.num_classes and source.num_classes != spec.num_classes:
            raise GancliError(f"the generator is conditional on {source.num_classes} classes but dataset "
                              f'"{name}" has {spec.num_classes}; evaluate against the data it was trained on')

    def _choose_metrics(self) -> list:
        registry, setting = self.registry, self.setting
        names = self.request.metrics
        chosen = []
        if names:
            for name in names:
                entry = registry.get("metric", name)
                metric = self._build(entry)
                reason = self._unusable(metric)
                if reason:
                    raise GancliError(f'metric "{entry.name}" cannot score this: {reason}')
                if all(entry.name != e.name for e, _ in chosen):
                    chosen.append((entry, metric))
        else:
            for entry in registry.entries("metric"):
                metric = self._build(entry)
                if setting.spec.kind in metric.default_for and not self._unusable(metric):
                    chosen.append((entry, metric))
            if not chosen:
                raise GancliError(f"no installed metric applies to {setting.spec.kind} data from "
                                  f'"{setting.data_name}"; see gancli list metrics')
        return chosen

    def _build(self, entry):
        raw = {}
        for key, value in (self.request.metric_options or {}).items():
            target, dot, option = key.rpartition(".")
            if dot and target in (entry.name, *entry.aliases):
                raw[option] = value
            elif not dot and any(info.name == key for info in schema(entry.cls.Options)):
                raw[key] = value
        options = resolve(entry.cls.Options, raw, f'metric "{entry.name}"')
        return entry.cls(**to_kwargs(entry.cls.Options, options))

    def _unusable(self, metric) -> str | None:
        setting = self.setting
        if setting.spec.kind not in metric.data_kinds:
            return f"it handles {', '.join(metric.data_kinds)} data, this is {setting.spec.kind} data"
        if "labels" in metric.needs and not setting.num_classes:
            return "the generator is unconditional (train with --conditional)"
        if "classes" in metric.needs and setting.spec.num_classes < 2:
            return f'dataset "{setting.data_name}" has no classes'
        return metric.applies(setting)

    def _halves(self):
        x, labels = self.bundle.x, self.bundle.labels
        if len(x) < 4:
            raise GancliError(f'dataset "{self.setting.data_name}" has {len(x)} samples; evaluation needs at least 4 '
                              "(two halves of real data)")
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(SPLIT_SEED))
        half = len(x) // 2
        parts = order[:half], order[half:2 * half]
        return [(x[idx], labels[idx] if labels is not None else None) for idx in parts]

    def _default_n(self) -> int:
        wanted = [metric.samples_wanted(self.setting) for _, metric in self.metrics]
        if "features" in self.needs or "classes" in self.needs:
            wanted.append(min(len(self.real_a), FEATURE_CAP))
        return max([w for w in wanted if w] or [min(len(self.real_a), FEATURE_CAP)])

    def _feature_extractor(self):
        request = self.request
        if request.inception and request.extractor:
            raise GancliError("give --inception or --extractor, not both")
        if request.inception or request.extractor:
            if self.setting.spec.kind != "image":
                raise GancliError("--inception and --extractor take images; this dataset gives 2-D points")
            return TorchScriptExtractor(request.inception or request.extractor, bool(request.inception),
                                        request.device)
        if self.setting.spec.kind == "points":
            return PointsExtractor()
        return self._classifier()

    def _judge(self):
        if self.request.judge not in JUDGES:
            raise GancliError(f"--judge must be one of {', '.join(JUDGES)}, got {self.request.judge!r}")
        return self._classifier(robust=self.request.judge == "robust")

    def _classifier(self, robust: bool = False):
        """gancli's classifier of this dataset, built once (the plain one serves features and classes alike)."""
        if robust not in self._classifiers:
            choice, dataset, bundle = self._classifier_data()
            extractor = classifier_extractor(self.registry, choice.entry.name, dict(choice.options), dataset, bundle,
                                             self._training_progress, robust)
            if extractor.info["trained_now"]:
                self.say(f"trained {extractor.info['name']}; cached in {extractor.info['file']}")
            self._classifiers[robust] = extractor
        return self._classifiers[robust]

    def _classifier_data(self) -> tuple:
        """(choice, dataset, bundle) of the data gancli's classifier trains on: the reference data itself, unless
        the dataset names another split for it (loaded once, when a metric first needs the classifier)."""
        if self._classifier_source is None:
            choice = self._classifier_choice
            if choice.options == self.data_choice.options:
                self._classifier_source = (choice, self.dataset, self.bundle)
            else:
                dataset = choice.build()
                self._classifier_source = (choice, dataset, dataset.load())
        return self._classifier_source

    def _training_progress(self, step: int, total: int) -> None:
        if step == 1:
            self.say("training gancli's classifier on the dataset's labels (once; it is cached)")
        if self.progress is not None:
            self.progress("classifier", step, total)

    # ---- scoring --------------------------------------------------------------------------------
    @staticmethod
    def _slice_labels(labels, n):
        return labels[:n].numpy() if labels is not None else None

    def _compute(self, fake: torch.Tensor, labels) -> dict:
        """Every chosen metric of ``fake`` (generated samples, or real half B for the floor) against half A."""
        inputs = MetricInputs(setting=self.setting)
        if "samples" in self.needs:
            inputs.real, inputs.fake = self.real_a[:len(fake)], fake
        if "features" in self.needs:
            inputs.real_features = self.real_features
            inputs.fake_features = self.extractor.features(fake[:self.n_feature])
        if "classes" in self.needs:
            inputs.classes = self.judge.classes(fake)
        inputs.labels = labels
        values = {}
        for entry, metric in self.metrics:
            for key, value in metric.compute(inputs).items():
                values[f"{entry.name}.{key}" if key in values else key] = _number(value)
        return values

    def score(self, source: SampleSource) -> dict:
        """The JSON-ready result for one generator: values beside floors, and what was measured how."""
        self.check_source(source)
        fake, labels = source.draw(self.n, self.request.seed)
        if not torch.isfinite(fake).all():
            raise GancliError(f"{source.description} produced non-finite samples; it cannot be evaluated")
        values = self._compute(fake, labels.numpy() if labels is not None else None)
        result = {
            "gancli_version": __version__, "generator": {"description": source.description, **source.info},
            "data": {"name": self.setting.data_name, "options": self.setting.data_options,
                     "shape": list(self.setting.spec.shape), "real_samples": len(self.bundle.x)},
            "metrics": [entry.name for entry, _ in self.metrics],
            "values": values, "floors": {k: self.floors.get(k) for k in values},
            "samples": {"generated": self.n, "floor": self.n_floor,
                        "features": self.n_feature if self.extractor else None},
            "seed": self.request.seed, "split_seed": SPLIT_SEED,
        }
        if self.extractor is not None:
            result["extractor"] = self.extractor.info
        if self.judge is not None:
            result["classifier"] = self.judge.info
        return result


def _number(value):
    """Plain JSON numbers; NaN and infinities (undefined figures) become None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None
