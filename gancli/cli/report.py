"""gancli report: PNG charts of a run — loss curves, and metrics over steps from its evaluations."""

from __future__ import annotations

import os

import click

from ..errors import GancliError


@click.command(help="""Draw a run's curves as PNG files: losses and discriminator outputs from metrics.jsonl,
and each evaluated metric over training steps (with its floor, dashed) from evaluations.jsonl.

\b
Examples:
  gancli report runs/0001                       writes runs/0001/report/*.png
  gancli evaluate runs/0001 --all-checkpoints && gancli report runs/0001
  gancli report runs/0001 -o figures/
""")
@click.argument("run_dir", type=click.Path())
@click.option("-o", "--out", type=click.Path(), help="folder for the PNG files (default RUN/report)")
def report(run_dir, out):
    from ..engine.runs import METRICS, is_run
    from ..metrics.records import EVALUATIONS, read_jsonl
    from ..metrics.report import evaluation_charts, loss_charts

    if not is_run(run_dir):
        raise GancliError(f"{run_dir} is not a gancli run directory (no run.json in it)")
    out = out or os.path.join(run_dir, "report")
    written = []
    training = read_jsonl(os.path.join(run_dir, METRICS))
    evaluations = read_jsonl(os.path.join(run_dir, EVALUATIONS))
    try:
        os.makedirs(out, exist_ok=True)
        for name, image in [("losses.png", loss_charts(training)), ("metrics.png", evaluation_charts(evaluations))]:
            if image is not None:
                image.save(os.path.join(out, name))
                written.append(os.path.join(out, name))
    except OSError as exc:
        raise GancliError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    if not training:
        click.echo(f"no training log in {run_dir} yet ({METRICS} is empty or missing)", err=True)
    if not evaluations:
        click.echo(f"no evaluations recorded yet: run `gancli evaluate {run_dir} --all-checkpoints` for the "
                   f"metrics-over-steps chart", err=True)
    for path in written:
        click.echo(path)
