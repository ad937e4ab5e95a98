"""Helpers shared by the commands."""

from __future__ import annotations

import sys

import click

from ..api.registry import registry_for_command  # noqa: F401  (the commands' registry: broken plugins warned of)


def is_interactive() -> bool:
    return sys.stderr.isatty()


def truncation_options(command):
    """--truncation PSI and --truncation-cutoff K, for every command that draws from a generator with a W space."""
    command = click.option("--truncation-cutoff", "truncation_cutoff", type=int, metavar="K",
                           help="truncate only the first K layers of W+ (the coarse styles)")(command)
    return click.option("--truncation", type=float, metavar="PSI",
                        help="truncation in W: w_avg + PSI (w - w_avg), PSI in [-1, 2] (1 = none; 0.7 trades "
                             "variety for quality); generators with a W space only")(command)


def space_option(help_text: str):
    return click.option("--space", type=click.Choice(["z", "w", "w+"]), help=help_text)
