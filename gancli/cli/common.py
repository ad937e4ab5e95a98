"""Helpers shared by the commands."""

from __future__ import annotations

import sys

import click


def warn_plugin_problems(registry) -> None:
    """One line per broken plugin, on stderr, so a failure is seen but does not stop the command."""
    from ..plugins import plugin_problems

    for line in plugin_problems(registry):
        click.echo(f"Warning: {line}", err=True)


def registry_for_command():
    from ..plugins import get_registry

    registry = get_registry()
    warn_plugin_problems(registry)
    return registry


def is_interactive() -> bool:
    return sys.stderr.isatty()
