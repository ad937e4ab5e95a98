"""gancli plugins: what is installed, from which package, and what failed to load."""

from __future__ import annotations

import json

import click

from ..plugins import DISABLE_ENV
from .common import registry_for_command


@click.command(help=f"""Show the loaded plugins, their packages, hooks and components.

Third-party plugins are found through the "gancli" entry-point group; set {DISABLE_ENV}=1 to skip them.

\b
Examples:
  gancli plugins
  gancli plugins --json
""")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--all", "show_all", is_flag=True, help="include gancli's built-in plugins")
def plugins(as_json, show_all):
    from ..plugins import get_registry

    registry = get_registry()
    chosen = [p for p in registry.plugins if show_all or not p.builtin]
    if as_json:
        click.echo(json.dumps([p.as_json() for p in chosen], indent=2))
        return
    if not chosen:
        click.echo("no third-party plugins installed (`gancli plugins --all` shows the built-in ones)")
        return
    for p in chosen:
        where = f"{p.distribution} {p.version}" if p.distribution else "not from a package"
        click.echo(f"{p.name}  ({where}{', built in' if p.builtin else ''})")
        click.echo(f"  hooks: {', '.join(p.hooks) or 'none'}")
        click.echo(f"  components: {', '.join(f'{k}:{n}' for k, n in p.components) or 'none'}")
        for error in p.errors:
            click.echo(f"  error: {error}")
