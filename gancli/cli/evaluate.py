"""gancli evaluate: quality and mode-coverage figures of a trained generator, each beside its floor."""

from __future__ import annotations

import json

import click

from .common import truncation_options


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
    from ..api.evaluation import evaluate as measure
    from .evaluate_view import Feedback, print_result

    feedback = Feedback()
    try:
        payload = measure(target, metrics=list(metric_names), metric_options=list(metric_opt), n=count, seed=seed,
                          data=data, data_options=list(data_opt), inception=inception, extractor=extractor,
                          judge=judge, all_checkpoints=all_checkpoints, record=record, truncation=truncation,
                          cutoff=truncation_cutoff, device=device, say=feedback.say, progress=feedback.progress)
    finally:
        feedback.close()
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    for result in payload.get("evaluations", [payload]):
        print_result(result)
