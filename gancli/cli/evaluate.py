"""gancli evaluate: quality and mode-coverage figures of a trained generator, each beside its floor."""

from __future__ import annotations

import json
import os

import click

from ..errors import GancliError
from .common import registry_for_command, truncation_options


@click.command(help="""Measure a trained generator against the data it was trained on.

\b
TARGET is a run directory (its latest generator), a .safetensors checkpoint, an .onnx file from
`gancli export` (with --data: ONNX files do not record their training data) or, with
--all-checkpoints, a run directory whose every kept checkpoint is measured. Each figure is shown
beside its floor: the same metric between two disjoint halves of the real data. Image features come
from a classifier gancli trains on the dataset's labels (cached), or from your own Inception-v3 file;
the output always names the extractor. Results for a run directory are appended to
RUN/evaluations.jsonl (see `gancli report`).

\b
Examples:
  gancli evaluate runs/0001
  gancli evaluate runs/0001 --metrics fid,kid -n 5000 --json
  gancli evaluate runs/0001 --all-checkpoints          metric over training steps
  gancli evaluate runs/0002 --metrics modes            stacked digits: modes and KL
  gancli evaluate runs/0001 --inception ~/weights/inception-2015-12-05.pt
  gancli evaluate g.safetensors --data digits --data-opt size=16
  gancli evaluate g.onnx --data digits                 what will actually ship
  gancli evaluate runs/0004 --truncation 0.7           a W generator (stylegan2), truncated
""")
@click.argument("target", type=click.Path())
@click.option("--metrics", "metric_names", multiple=True, metavar="NAMES",
              help="comma-separated metrics (default: every metric that applies; see `gancli list metrics`)")
@click.option("--metric-opt", multiple=True, metavar="[METRIC.]KEY=VALUE", help="metric option (repeatable)")
@click.option("-n", "count", type=int, help="generated samples (default: what the metrics' protocols ask for)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latent vectors")
@click.option("--data", help="compare against this dataset instead of the training data: NAME or NAME:PATH")
@click.option("--data-opt", multiple=True, metavar="KEY=VALUE", help="dataset option (repeatable)")
@click.option("--inception", type=click.Path(), metavar="PATH",
              help="NVIDIA's TorchScript Inception-v3 (inception-2015-12-05.pt) for the image features")
@click.option("--extractor", type=click.Path(), metavar="PATH",
              help="your own TorchScript feature network: images in [-1, 1] -> (N, D)")
@click.option("--judge", type=click.Choice(["robust", "plain"]), default="robust", show_default=True,
              help="the classifier that gives samples their class (modes, class-accuracy): robust = trained on "
                   "noisy and blurred copies too, so generation artefacts do not decide the class; plain = the "
                   "feature extractor's classifier")
@click.option("--all-checkpoints", is_flag=True, help="measure every checkpoint kept in the run directory")
@click.option("--record/--no-record", default=True, show_default=True,
              help="append the results to RUN/evaluations.jsonl when TARGET is a run directory")
@truncation_options
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of a table")
def evaluate(target, metric_names, metric_opt, count, seed, data, data_opt, inception, extractor, judge,
             all_checkpoints, record, truncation, truncation_cutoff, device, as_json):
    from ..engine.runs import is_run
    from ..options import parse_pairs

    if count is not None and count < 1:
        raise GancliError(f"-n must be at least 1, got {count}")
    if all_checkpoints and not is_run(target):
        raise GancliError(f"--all-checkpoints needs a run directory; {target} is not one")
    names = [name.strip() for value in metric_names for name in value.split(",") if name.strip()]
    registry = registry_for_command()

    from ..engine.trainer import pick_device
    from ..metrics.evaluate import EvalRequest, Evaluator
    from ..metrics.sources import open_source
    from .evaluate_view import Feedback, print_result

    dev = str(pick_device(device))
    request = EvalRequest(metrics=names or None, metric_options=parse_pairs(metric_opt), n=count, seed=seed,
                          data=data, data_options=parse_pairs(data_opt), inception=inception,
                          extractor=extractor, judge=judge, device=dev)
    targets = _checkpoint_files(target) if all_checkpoints else [target]
    feedback = Feedback()
    try:
        truncated = (truncation, truncation_cutoff)
        first = open_source(targets[0], registry, dev, *truncated)
        evaluator = Evaluator(registry, request, first, say=feedback.say, progress=feedback.progress)
        results = []
        for path in targets:
            source = first if path == targets[0] else open_source(path, registry, dev, *truncated)
            feedback.say(f"measuring {source.description} on {evaluator.n} samples")
            results.append(evaluator.score(source))
    finally:
        feedback.close()
    if record and is_run(target):
        from ..metrics.records import append_record

        for result in results:
            where = append_record(target, result)
        feedback.say(f"recorded in {where}")
    if as_json:
        from ..metrics.records import json_ready

        payload = results[0] if len(results) == 1 else {"evaluations": results}
        click.echo(json.dumps(json_ready(payload), indent=2))
        return
    for result in results:
        print_result(result)


def _checkpoint_files(run_dir: str) -> list:
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
