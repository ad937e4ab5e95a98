"""Rebuild a shipped pretrained run:  python -m gancli.pretrained.build faces

Trains the generator with the recorded recipe (or takes an already trained run with --from-run), trains
or reuses the cached attribute classifier of the dataset, fits the shipped directions, and writes the run
folder: run.json, the generator alone (no discriminator or optimizer state), the classifier and the
directions, about 3 MB in all. Training takes about 20-40 minutes on one CPU thread.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from . import ROOT

# name -> (training settings, directions to fit: (method, attribute, condition_on, finder options[, space]));
# the space defaults to the generator's own (W for a generator with a mapping network, else Z)
RECIPES = {
    "faces": (
        {"data": "faces", "arch": "dcgan", "arch_opt": {"width": 48}, "batch_size": 64, "steps": 4000, "ema": 0.999,
         "seed": 0, "device": "cpu", "sample_every": 1000, "checkpoint_every": 1000, "log_every": 100},
        [("interfacegan", "smiling", (), {}), ("interfacegan", "mouth_open", (), {}),
         ("interfacegan", "eyeglasses", (), {}), ("interfacegan", "hat", (), {}),
         ("interfacegan", "smiling", ("mouth_open",), {}), ("interfacegan", "mouth_open", ("smiling",), {}),
         ("interfacegan", "smiling", ("eyeglasses", "hat"), {}),
         ("interfacegan", "smiling", ("mouth_open", "eyeglasses", "hat"), {}),
         ("classifier-gradient", "smiling", (), {}), ("classifier-gradient", "smiling", ("mouth_open",), {}),
         ("classifier-gradient", "smiling", (), {"hold": True, "refine": 40}),  # holding the others: the best walk
         ("sefa", None, (), {"k": 5}), ("pca", None, (), {"k": 5})],
    ),
}


def train_run(settings: dict, run_dir: str, registry) -> None:
    from ..api.progress import RichReporter
    from ..engine.config import build_config
    from ..engine.plan import make_plan
    from ..engine.trainer import train

    plan = make_plan(build_config(dict(settings)), registry)
    train(plan, run_dir, RichReporter())


def build(name: str, out: str, from_run: str | None = None) -> str:
    from ..directions.context import open_run
    from ..directions.fit import fit_directions
    from ..engine.runs import GENERATOR, RUN_JSON
    from ..plugins import get_registry

    settings, fits = RECIPES[name]
    registry = get_registry()
    with tempfile.TemporaryDirectory() as work:
        run = from_run
        if run is None:
            run = os.path.join(work, "run")
            train_run(settings, run, registry)
        staged = os.path.join(work, "staged")
        os.makedirs(staged)
        for file in (RUN_JSON, GENERATOR):
            shutil.copyfile(os.path.join(run, file), os.path.join(staged, file))
        context = open_run(staged, registry)
        for method, attribute, condition_on, options, *space in fits:
            names = fit_directions(context, registry, method, attribute, condition_on, options,
                                   space=space[0] if space else None)
            print(f"{method}: {', '.join(names)}")
        if os.path.isdir(out):
            shutil.rmtree(out)
        shutil.copytree(staged, out)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(RECIPES))
    parser.add_argument("--out", help="destination folder (default: the package's own pretrained/NAME)")
    parser.add_argument("--from-run", help="use this trained run instead of training one with the recipe")
    args = parser.parse_args(argv)
    out = build(args.name, args.out or os.path.join(ROOT, args.name), args.from_run)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {out} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
