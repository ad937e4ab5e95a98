"""gancli list: the installed components, their options and the plugin that gave each; and the recipes."""

from __future__ import annotations

import json

import click

from ..errors import GancliError, did_you_mean
from ..options import schema
from ..registry import KINDS, kind_for
from .common import registry_for_command

RECIPES = ("recipes", "recipe")


@click.command("list", help="""List installed components: architectures, losses, lipschitz, datasets, metrics, direction
finders, augmentations, generator regularizers; and recipes, the named presets of `gancli train --recipe`.

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
    registry = registry_for_command()
    recipes = kind is None or kind in RECIPES
    kinds = [] if kind in RECIPES else [_kind(kind)] if kind else list(KINDS)
    listing = {k: [_describe(e) for e in registry.entries(k)] for k in kinds}
    if recipes:
        listing["recipe"] = [recipe.as_json() for recipe in registry.recipes.entries()]
    if as_json:
        click.echo(json.dumps(listing, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

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


def _kind(word: str) -> str:
    """The component kind ``word`` names; a misspelt "recipes" is suggested as such."""
    try:
        return kind_for(word)
    except GancliError:
        if did_you_mean(word, RECIPES[:1]):
            raise GancliError(f"unknown component kind {word!r}{did_you_mean(word, RECIPES[:1])}") from None
        raise


def _describe(entry) -> dict:
    extra = {}
    cls = entry.cls
    if entry.kind == "loss":
        extra = {"output": cls.output, "n_critic": cls.n_critic,
                 "lipschitz": [name for name, _ in cls.lipschitz]}
    elif entry.kind == "generator_regularizer":
        extra = {"needs": list(cls.needs), "data_kinds": list(cls.data_kinds)}
    return {"name": entry.name, "aliases": list(entry.aliases), "description": entry.description,
            "plugin": entry.plugin.name, "distribution": entry.plugin.distribution,
            "version": entry.plugin.version, "builtin": entry.plugin.builtin,
            "options": [info.as_json() for info in schema(cls.Options)], **extra}


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
