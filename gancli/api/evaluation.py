"""gancli.evaluate: quality and mode-coverage figures of a generator, each beside its floor (the same dict
`gancli evaluate --json` prints, which is this function's result)."""

from __future__ import annotations

import os
import sys

from ..errors import GancliError


def evaluate(target, metrics=None, metric_options: dict | None = None, n: int | None = None, seed: int = 0,
             data: str | None = None, data_options: dict | None = None, inception: str | None = None,
             extractor: str | None = None, judge: str = "robust", all_checkpoints: bool = False, record: bool = True,
             truncation: float | None = None, cutoff: int | None = None, device: str = "cpu", say=None,
             progress=None) -> dict:
    """Measure a run directory, a .safetensors checkpoint or an .onnx export (with ``data``) against its data.

    ``metrics``: names (a list or "fid,kid"; default every metric that applies). ``metric_options``:
    {"kid.subsets": 50} or {"subsets": 50}. ``n``: generated samples (default: the metrics' protocols).
    ``all_checkpoints``: every kept checkpoint of a run, as {"evaluations": [...]}. ``record``: append the
    results to RUN/evaluations.jsonl (run directories). ``say(text)`` and ``progress(label, done, total)``
    receive messages (default: stderr) and classifier-training progress.
    """
    from ..engine.runs import is_run
    from ..engine.trainer import pick_device
    from ..metrics.evaluate import EvalRequest, Evaluator
    from ..metrics.records import append_record, json_ready
    from ..metrics.sources import open_source
    from .registry import registry_for_command

    target = os.fspath(target)
    say = say or (lambda text: print(text, file=sys.stderr))
    if n is not None and n < 1:
        raise GancliError(f"-n must be at least 1, got {n}")
    if all_checkpoints and not is_run(target):
        raise GancliError(f"--all-checkpoints needs a run directory; {target} is not one")
    names = metric_names(metrics)
    registry = registry_for_command()
    dev = str(pick_device(device))
    request = EvalRequest(metrics=names or None, metric_options=_pairs(metric_options), n=n, seed=seed, data=data,
                          data_options=_pairs(data_options), inception=inception, extractor=extractor, judge=judge,
                          device=dev)
    targets = checkpoint_files(target) if all_checkpoints else [target]
    first = open_source(targets[0], registry, dev, truncation, cutoff)
    evaluator = Evaluator(registry, request, first, say=say, progress=progress)
    results = []
    for path in targets:
        source = first if path == targets[0] else open_source(path, registry, dev, truncation, cutoff)
        say(f"measuring {source.description} on {evaluator.n} samples")
        results.append(evaluator.score(source))
    if record and is_run(target):
        for result in results:
            where = append_record(target, result)
        say(f"recorded in {where}")
    return json_ready(results[0] if not all_checkpoints else {"evaluations": results})


def metric_names(metrics) -> list:
    """["fid", "kid"] from "fid,kid", ["fid,kid", "modes"] or None."""
    if metrics is None:
        return []
    values = [metrics] if isinstance(metrics, str) else list(metrics)
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _pairs(options) -> dict:
    """Options as a dict: given as one ({"kid.subsets": 50}) or as the CLI's ["kid.subsets=50"]."""
    from ..options import parse_pairs

    if isinstance(options, dict):
        return dict(options)
    return parse_pairs(list(options or ()))


def checkpoint_files(run_dir: str) -> list:
    """Every kept checkpoint, oldest first, then generator.safetensors when it is newer than them all."""
    from ..engine.checkpoint import read_meta
    from ..engine.runs import GENERATOR, checkpoints

    found = checkpoints(run_dir)
    generator = os.path.join(run_dir, GENERATOR)
    files = [path for _, path in found]
    if os.path.isfile(generator) and (not found or read_meta(generator).get("step", -1) > found[-1][0]):
        files.append(generator)
    if not files:
        raise GancliError(f"{run_dir} holds no checkpoints yet; train it first")
    return files
