"""How much a stacked-digits KL depends on its judge: one generator's 26,000 samples read by three judges.

    python bench/stacked_judges.py RUN_OR_CHECKPOINT [RUN_OR_CHECKPOINT ...]

The judges: gancli's robust digits classifier (the default of `gancli evaluate`), its plain one
(`--judge plain`), and the nearest real digit in pixel space (1-NN over the built-in digits at the run's
resolution, a judge that shares nothing with the two networks). For each: its held-out accuracy, the KL
over the 1,000 triples, and how often it disagrees with the robust judge on generated and on real channels
(the real channels are digits of the 1-NN's own reference, so there it shows the robust judge's errors).
Prints a markdown table; the samples are those `gancli evaluate --metrics modes` scores (seed 0).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gancli.data.digits import load_digits  # noqa: E402
from gancli.engine.plan import choose  # noqa: E402
from gancli.metrics.coverage import class_coverage  # noqa: E402
from gancli.metrics.extractors import classifier_extractor  # noqa: E402
from gancli.metrics.sources import open_source  # noqa: E402
from gancli.plugins import get_registry  # noqa: E402

SAMPLES = 26_000
HELD_OUT = 360  # digits kept out of the 1-NN reference to measure its accuracy


def nearest_digit(images: torch.Tensor, reference: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    flat = reference.reshape(len(reference), -1)
    return torch.cat([labels[torch.cdist(images[i:i + 4000].reshape(-1, flat.shape[1]), flat).argmin(1)]
                      for i in range(0, len(images), 4000)])


def judges(registry, data: dict):
    """{name: (classify(channels) -> classes, held-out accuracy)} for the run's dataset options."""
    dataset = choose(registry, "dataset", data["name"], data["options"]).build()
    found = {}
    for name, robust in (("robust classifier", True), ("plain classifier", False)):
        clf = classifier_extractor(registry, data["name"], data["options"], dataset, None, robust=robust).classifier
        found[name] = (clf.predict, clf.accuracy)
    digits = load_digits(int(data["options"]["size"]))
    order = torch.randperm(len(digits.x), generator=torch.Generator().manual_seed(0))
    held, kept = order[:HELD_OUT], order[HELD_OUT:]
    right = nearest_digit(digits.x[held], digits.x[kept], digits.labels[kept]) == digits.labels[held]
    found["nearest real digit (1-NN)"] = (lambda x: nearest_digit(x, digits.x, digits.labels),
                                          float(right.float().mean()))
    return found, dataset.load().x[:SAMPLES]


def channels(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, 1, *x.shape[2:])


def table(target: str, registry) -> list:
    source = open_source(target, registry)
    if (source.data or {}).get("name") != "stacked-digits":
        raise SystemExit(f"{target} was not trained on stacked-digits")
    found, real = judges(registry, source.data)
    fake, _ = source.draw(SAMPLES, seed=0)
    read = {name: (classify(channels(fake)), classify(channels(real)), accuracy)
            for name, (classify, accuracy) in found.items()}
    base_fake, base_real = read["robust classifier"][:2]
    lines = [f"`{target}`:", "", "| judge | held-out accuracy | KL | of it: channels' balance | channels' dependence "
             "| disagrees with the robust judge: generated | real |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, (fake_classes, real_classes, accuracy) in read.items():
        triples = (fake_classes.reshape(-1, 3).numpy() * np.array([100, 10, 1])).sum(1)
        kl = class_coverage(triples, 1000, (10, 10, 10))
        lines.append(f"| {name} | {accuracy:.1%} | {kl['kl']:.4f} | {kl['kl_parts']:.4f} | {kl['kl_dependence']:.4f} "
                     f"| {(fake_classes != base_fake).float().mean():.1%} "
                     f"| {(real_classes != base_real).float().mean():.1%} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", help="stacked-digits runs or checkpoints")
    args = parser.parse_args()
    torch.set_num_threads(1)
    registry = get_registry()
    for target in args.targets:
        print("\n".join(table(target, registry)), flush=True)


if __name__ == "__main__":
    main()
