"""gancli diagnose: a run's training health over time, the alarms that fired and what to try."""

from __future__ import annotations

import json

import click


@click.command(help="""Summarise a run's health from its diagnostics (gradient norm, saturation, diversity,
coverage, overfitting, balance): each signal over time, the alarms that fired and the advice for each. Works on a
finished run and on one still training; `gancli report RUN` draws the signals.

\b
Examples:
  gancli diagnose runs/0001
  gancli diagnose runs/0001 --json
""")
@click.argument("run_dir", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def diagnose(run_dir, as_json):
    from ..api.diagnosis import diagnose as diagnose_run
    from ..diagnostics.summary import format_summary

    summary = diagnose_run(run_dir)
    click.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))
