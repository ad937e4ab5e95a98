"""gancli.list_components: the installed components and recipes, as `gancli list --json` shows them."""

from __future__ import annotations

from ..errors import GancliError, did_you_mean

RECIPES = ("recipes", "recipe")


def listing(kind: str | None = None, registry=None) -> dict:
    """{kind: [component, ...]} for ``kind`` (a kind name, singular or plural, or "recipes"), or for every kind
    and the recipes; each component a dict of name, aliases, description, plugin, options..."""
    from ..registry import KINDS
    from .registry import registry_for_command

    registry = registry or registry_for_command()
    kinds = [] if kind in RECIPES else [kind_of(kind)] if kind else list(KINDS)
    found = {k: [describe(e) for e in registry.entries(k)] for k in kinds}
    if kind is None or kind in RECIPES:
        found["recipe"] = [recipe.as_json() for recipe in registry.recipes.entries()]
    return found


def list_components(kind: str | None = None):
    """The components of ``kind`` ("losses", "architectures", "recipes"...) as a list of dicts, or, without a
    kind, {kind: [...]} of everything `gancli list` shows."""
    found = listing(kind)
    return next(iter(found.values())) if kind else found


def kind_of(word: str) -> str:
    """The component kind ``word`` names; a misspelt "recipes" is suggested as such."""
    from ..registry import kind_for

    try:
        return kind_for(word)
    except GancliError:
        if did_you_mean(word, RECIPES[:1]):
            raise GancliError(f"unknown component kind {word!r}{did_you_mean(word, RECIPES[:1])}") from None
        raise


def describe(entry) -> dict:
    """One registry entry as data: what `gancli list --json` prints for it."""
    from ..options import schema

    extra = {}
    cls = entry.cls
    if entry.kind == "loss":
        extra = {"output": cls.output, "n_critic": cls.n_critic, "lipschitz": [name for name, _ in cls.lipschitz]}
    elif entry.kind == "generator_regularizer":
        extra = {"needs": list(cls.needs), "data_kinds": list(cls.data_kinds)}
    return {"name": entry.name, "aliases": list(entry.aliases), "description": entry.description,
            "plugin": entry.plugin.name, "distribution": entry.plugin.distribution,
            "version": entry.plugin.version, "builtin": entry.plugin.builtin,
            "options": [info.as_json() for info in schema(cls.Options)], **extra}


def plugins(builtin: bool = False, registry=None) -> list:
    """The loaded plugins as `gancli plugins --json` shows them: name, package, version, hooks, components and
    errors of each; gancli's own built-in plugins too with ``builtin``."""
    from ..plugins import get_registry

    registry = registry or get_registry()
    return [p.as_json() for p in registry.plugins if builtin or not p.builtin]
