"""gancli plugins: what is installed, from which package, and what failed to load."""

from __future__ import annotations

import json

import click

from ..plugins import DISABLE_ENV, PLUGINS_DIR_ENV


@click.command(help=f"""Show the loaded plugins, their packages, hooks and components.

Third-party plugins are found through the "gancli" entry-point group; set {DISABLE_ENV}=1 to skip them.
One-file plugins come from `gancli --plugins-dir DIR` (or {PLUGINS_DIR_ENV}). A plugin that failed to
load, misspelt a hook or registered a name already taken is listed with the error; the others work.

\b
Examples:
  gancli plugins
  gancli plugins --json
  gancli --plugins-dir ./mine plugins
""")
@click.option("--json", "as_json", is_flag=True, help="print JSON: one object per plugin")
@click.option("--all", "show_all", is_flag=True, help="include gancli's built-in plugins")
def plugins(as_json, show_all):
    from ..api.listing import plugins as loaded
    from ..plugins import third_party_disabled

    chosen = loaded(builtin=show_all)
    if as_json:
        click.echo(json.dumps(chosen, indent=2))
        return
    if third_party_disabled():
        click.echo(f"installed third-party plugins are off ({DISABLE_ENV} is set)")
    if not chosen:
        click.echo("no third-party plugins installed (`gancli plugins --all` shows the built-in ones)")
        return
    for p in chosen:
        click.echo(f"{p['name']}  ({_origin(p)})")
        click.echo(f"  hooks: {', '.join(p['hooks']) or 'none'}")
        click.echo(f"  components: {', '.join(p['components']) or 'none'}")
        for error in p["errors"]:
            click.echo(f"  error: {error}")


def _origin(plugin: dict) -> str:
    if plugin["builtin"]:
        return f"{plugin['distribution']} {plugin['version']}, built in"
    if plugin["distribution"]:
        return f"{plugin['distribution']} {plugin['version']}"
    if plugin["path"]:
        return f"file {plugin['path']}"
    return "not from a package"
