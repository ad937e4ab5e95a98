"""The layout of a run directory and how to find things in it.

    RUN/run.json                         resolved configuration (components, options, settings)
    RUN/metrics.jsonl                    one JSON object per logged step
    RUN/samples/step-00000200.png        sample grids from fixed noise
    RUN/generator.safetensors            the latest generator alone (enough to sample or export)
    RUN/checkpoints/step-00000500.safetensors   full training state (G, D, optimizers, RNG), last K kept
"""

from __future__ import annotations

import json
import os
import re

from ..errors import GancliError

RUN_JSON = "run.json"
METRICS = "metrics.jsonl"
GENERATOR = "generator.safetensors"
CHECKPOINTS = "checkpoints"
SAMPLES = "samples"
_STEP_FILE = re.compile(r"^step-(\d+)\.safetensors$")


def next_run_dir(base: str = "runs") -> str:
    """runs/0001, runs/0002, ...: one more than the highest number there."""
    numbers = [int(n) for n in os.listdir(base) if n.isdigit()] if os.path.isdir(base) else []
    return os.path.join(base, f"{max(numbers, default=0) + 1:04d}")


def is_run(path: str) -> bool:
    return os.path.isfile(os.path.join(path, RUN_JSON))


def read_run_json(run: str) -> dict:
    path = os.path.join(run, RUN_JSON)
    if not os.path.isfile(path):
        raise GancliError(f"{run} is not a gancli run directory (no {RUN_JSON} in it)")
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise GancliError(f"{path} is damaged ({exc})") from None


def checkpoint_path(run: str, step: int) -> str:
    return os.path.join(run, CHECKPOINTS, f"step-{step:08d}.safetensors")


def checkpoints(run: str) -> list[tuple[int, str]]:
    """(step, path) of every training checkpoint in the run, oldest first."""
    folder = os.path.join(run, CHECKPOINTS)
    found = []
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        match = _STEP_FILE.match(name)
        if match:
            found.append((int(match.group(1)), os.path.join(folder, name)))
    return sorted(found)


def resolve_target(target: str) -> str:
    """What the user named as a run: ``pretrained:NAME`` becomes the shipped run's folder, paths stay as given."""
    from ..pretrained import is_pretrained, pretrained_path

    return pretrained_path(target) if is_pretrained(target) else target


def generator_file(target: str) -> str:
    """The generator to load for a run directory, a checkpoint file or ``pretrained:NAME``."""
    target = resolve_target(target)
    if os.path.isdir(target):
        path = os.path.join(target, GENERATOR)
        if os.path.isfile(path):
            return path
        found = checkpoints(target)
        if found:
            return found[-1][1]
        if not is_run(target):
            raise GancliError(f"{target} is not a gancli run directory (no {RUN_JSON}, {GENERATOR} or {CHECKPOINTS}/ in it)")
        raise GancliError(f"{target} holds no generator yet ({GENERATOR} or {CHECKPOINTS}/); train it first")
    if os.path.isfile(target):
        return target
    raise GancliError(f"{target} does not exist: give a run directory or a .safetensors generator file")
