"""gancli list: the installed components, their options and the plugin that gave each; and the recipes."""

from __future__ import annotations

import json

import click


@click.command("list", help="""List installed components: architectures, losses, lipschitz, datasets, metrics, direction
finders, augmentations, generator regularizers, loggers, diagnostics; and recipes, the named presets of `gancli train --recipe`.

\b
Examples:
  gancli list                    everything
  gancli list losses --options   losses with their options
  gancli list generator-regularizers
  gancli list recipes            each preset, what it is for and the figure it measured
  gancli list --json             machine-readable
""")
@click.argument("kind", required=False)
@click.option("--options", "show_options", is_flag=True, help="show each component's options (a recipe's flags)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def list_components(kind, show_options, as_json):
    from ..api.listing import listing as components

    listing = components(kind)
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from ..registry import KINDS

    console = Console()
    for k, items in listing.items():
        if k == "recipe":
            console.print(_recipe_table(items, show_options))
            continue
        table = Table(title=KINDS[k][2], title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("name", no_wrap=True)
        table.add_column("description")
        table.add_column("from", no_wrap=True)
        for item in items:
            name = item["name"] + (f" ({', '.join(item['aliases'])})" if item["aliases"] else "")
            description = item["description"]
            if show_options:
                description += "".join(f"\n  {o['name']}={o['default']!r}: {o['help']}" for o in item["options"])
            package = f"{item['distribution'] or item['plugin']} {item['version'] or ''}"
            source = "gancli" if item["builtin"] else package
            table.add_row(name, description, source.strip())
        console.print(table)
        console.print()


def _recipe_table(items: list, show_flags: bool):
    from rich.table import Table

    table = Table(title="recipes (gancli train --recipe NAME)", title_justify="left", show_edge=False,
                  pad_edge=False)
    table.add_column("name", no_wrap=True)
    table.add_column("dataset", no_wrap=True)
    table.add_column("for; measured", overflow="fold")
    table.add_column("from", no_wrap=True)
    for item in items:
        measured = item["measured"]
        text = f"{item['description']}\n  measured: {measured['figure'] or 'nothing yet'}"
        text += f" ({measured['doc']})" if measured["doc"] else ""
        if show_flags:
            text += f"\n  sets: {' '.join(item['arguments'])}"
        source = "gancli" if item["builtin"] else f"{item['distribution'] or item['plugin']} {item['version'] or ''}"
        table.add_row(item["name"], item["dataset"], text, source.strip())
    return table
