"""How far each class judge can be trusted on images that are not clean: gancli's plain digits classifier
against the robust one (trained on noisy and blurred copies too), on held-out digits with corruptions a
generator's samples show. Writes the table into docs/evaluate.md (between the judge markers).

    python bench/judge.py                 # digits at 16x16, the stacked-digits resolution
    python bench/judge.py --size 28

Both classifiers are gancli's cached ones for `digits` at that size (trained now when missing), so the
figures describe exactly the judges `gancli evaluate` uses. The held-out split is the one their recorded
held-out accuracy was measured on; no image here was seen in training.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gancli.classifiers.train import box_blur  # noqa: E402
from gancli.metrics.extractors import classifier_extractor  # noqa: E402
from gancli.plugins import get_registry  # noqa: E402
from gancli.engine.plan import choose  # noqa: E402

DOC = os.path.join(ROOT, "docs", "evaluate.md")
START, END = "<!-- judge:start -->", "<!-- judge:end -->"


def corruptions(x: torch.Tensor, seed: int = 1) -> list:
    """(name, seen in the robust judge's training?, corrupted images)."""
    gen = torch.Generator().manual_seed(seed)
    side = x.shape[-1]
    checker = ((torch.arange(side)[:, None] + torch.arange(side)[None, :]) % 2 * 2 - 1).float()
    binomial = torch.tensor([1.0, 4, 6, 4, 1])
    gauss = (binomial[:, None] * binomial[None, :] / binomial.sum() ** 2)[None, None]
    salt = torch.rand(x.shape, generator=gen)
    return [
        ("clean", True, x),
        ("Gaussian noise, std 0.2", True, (x + 0.2 * torch.randn(x.shape, generator=gen)).clamp(-1, 1)),
        ("Gaussian noise, std 0.3", True, (x + 0.3 * torch.randn(x.shape, generator=gen)).clamp(-1, 1)),
        ("3x3 box blur", True, box_blur(x)),
        ("3x3 box blur, twice", False, box_blur(box_blur(x))),
        ("5x5 Gaussian blur", False, F.conv2d(F.pad(x, (2,) * 4, mode="replicate"), gauss)),
        ("checkerboard, amplitude 0.15", False, (x + 0.15 * checker).clamp(-1, 1)),
        ("contrast x0.6", False, (x * 0.6 - 0.4).clamp(-1, 1)),
        ("salt and pepper, 5%", False,
         torch.where(salt < 0.025, torch.ones_like(x), torch.where(salt > 0.975, -torch.ones_like(x), x))),
        ("shift by 2 pixels", False, torch.roll(x, 2, dims=3)),
    ]


def held_out(classifier, bundle):
    """The images the classifier's recorded held-out accuracy was measured on (train_classifier's split)."""
    settings = classifier.info["settings"]
    with torch.random.fork_rng():
        torch.manual_seed(settings["seed"])
        order = torch.randperm(len(bundle.x))
    held = order[:classifier.info["n_holdout"]]
    return bundle.x[held], bundle.labels[held]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    registry = get_registry()
    choice = choose(registry, "dataset", "digits", {"size": args.size})
    dataset = choice.build()
    bundle = dataset.load()
    judges = {robust: classifier_extractor(registry, "digits", dict(choice.options), dataset, bundle, None, robust)
              for robust in (False, True)}
    x, labels = held_out(judges[False].classifier, bundle)
    truth = np.bincount(labels.numpy(), minlength=10)
    lines = [f"Measured by `python bench/judge.py` on the {len(x)} held-out digits at {args.size}x{args.size}. "
             "Accuracy, and in brackets the most over-called class: how many times its true count the judge "
             "calls it.", "",
             "| images | in the robust judge's training | plain | robust |", "|---|---|---:|---:|"]
    for name, seen, images in corruptions(x):
        cells = []
        for robust in (False, True):
            predicted = judges[robust].classifier.predict(images).numpy()
            ratio = np.bincount(predicted, minlength=10) / truth
            cells.append(f"{(predicted == labels.numpy()).mean():.1%} ({ratio.argmax()}: ×{ratio.max():.2f})")
        lines.append(f"| {name} | {'yes' if seen else 'no'} | {cells[0]} | {cells[1]} |")
        print(lines[-1], flush=True)
    section = "\n".join(lines + [""])
    if args.no_docs:
        return
    with open(DOC) as fh:
        text = fh.read()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w") as fh:
        fh.write(f"{head}{START}\n{section}\n{END}{tail}")


if __name__ == "__main__":
    main()
