"""gancli report: PNG charts of a run — loss curves, and metrics over steps from its evaluations."""

from __future__ import annotations

import click


@click.command(help="""Draw a run's curves as PNG files: losses and discriminator outputs from metrics.jsonl,
its diagnostics signals (diversity, saturation... with the alarms they raised; `gancli diagnose RUN` reads them),
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
    from ..api.run import Run
    from ..engine.runs import METRICS

    run = Run(run_dir)
    written = run.report(out)
    if not run.metrics:
        click.echo(f"no training log in {run_dir} yet ({METRICS} is empty or missing)", err=True)
    if not run.evaluations:
        click.echo(f"no evaluations recorded yet: run `gancli evaluate {run_dir} --all-checkpoints` for the "
                   f"metrics-over-steps chart", err=True)
    for path in written:
        click.echo(path)
