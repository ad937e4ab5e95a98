"""Names -> component classes, with aliases and the plugin that registered each."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import components
from .errors import GancliError, did_you_mean
from .recipes import RecipeBook

# kind -> (hook that fills it, interface class, plural used in messages)
KINDS = {
    "architecture": ("register_architectures", components.Architecture, "architectures"),
    "loss": ("register_losses", components.Loss, "losses"),
    "lipschitz": ("register_lipschitz", components.LipschitzEnforcer, "lipschitz enforcers"),
    "dataset": ("register_datasets", components.Dataset, "datasets"),
    "metric": ("register_metrics", components.Metric, "metrics"),
    "direction_finder": ("register_direction_finders", components.DirectionFinder, "direction finders"),
    "augmentation": ("register_augmentations", components.Augmentation, "augmentations"),
    "generator_regularizer": ("register_generator_regularizers", components.GeneratorRegularizer,
                              "generator regularizers"),
    "logger": ("register_loggers", components.Logger, "loggers"),
    "diagnostic": ("register_diagnostics", components.Diagnostic, "diagnostics"),
}


def kind_for(word: str) -> str:
    """'losses' / 'loss' -> 'loss'; raises GancliError for an unknown kind."""
    spelled = word.replace("-", "_")  # direction-finders, direction_finders
    for kind, (_, _, plural) in KINDS.items():
        if word in (kind, plural, plural.split()[-1], kind + "s") or spelled in (kind, plural.replace(" ", "_")):
            return kind
    names = ", ".join(plural.split()[-1] if kind == "lipschitz" else plural for kind, (_, _, plural) in KINDS.items())
    raise GancliError(f"unknown component kind {word!r}{did_you_mean(word, [k[2] for k in KINDS.values()])}; "
                      f"kinds: {names}")


@dataclass
class Plugin:
    """A loaded plugin and what it gave."""

    name: str
    distribution: str | None = None  # the pip package that ships it
    version: str | None = None
    builtin: bool = False
    path: str | None = None  # the file of a one-file plugin loaded by --plugins-dir
    hooks: list = field(default_factory=list)
    components: list = field(default_factory=list)  # (kind, name)
    errors: list = field(default_factory=list)

    def as_json(self) -> dict:
        return {"name": self.name, "distribution": self.distribution, "version": self.version,
                "builtin": self.builtin, "path": self.path, "hooks": self.hooks,
                "components": [f"{kind}:{name}" for kind, name in self.components], "errors": self.errors}


@dataclass
class Entry:
    """One registered component."""

    kind: str
    name: str
    cls: type
    plugin: Plugin
    aliases: tuple = ()
    description: str = ""

    def provenance(self) -> dict:
        """What a checkpoint records so a reader knows which package to install."""
        record = {"plugin": self.plugin.name, "distribution": self.plugin.distribution, "version": self.plugin.version}
        if self.plugin.path:  # a one-file plugin: its file name says what to load again
            record["file"] = os.path.basename(self.plugin.path)
        return record


class Registry:
    def __init__(self):
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        self._aliases: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self.plugins: list[Plugin] = []
        self.recipes = RecipeBook()  # presets of train values, not components: filled by register_recipes

    def register(self, kind: str, name: str, cls: type, plugin: Plugin, aliases=(), description=None) -> Entry:
        """Add a component; a name or alias that is already taken raises GancliError naming both plugins."""
        interface = KINDS[kind][1]
        if not (isinstance(cls, type) and issubclass(cls, interface)):
            raise GancliError(f"plugin {plugin.name}: {kind} {name!r} must be a subclass of "
                              f"gancli.{interface.__name__}")
        for word in (name, *aliases):
            owner = self._owner(kind, word)
            if owner is not None:
                raise GancliError(f"plugin {plugin.name}: {kind} name {word!r} is already registered by plugin "
                                  f"{owner.plugin.name}")
        entry = Entry(kind, name, cls, plugin, tuple(aliases), description or cls.summary())
        self._entries[kind][name] = entry
        for alias in aliases:
            self._aliases[kind][alias] = name
        plugin.components.append((kind, name))
        return entry

    def _owner(self, kind: str, word: str) -> Entry | None:
        name = self._aliases[kind].get(word, word)
        return self._entries[kind].get(name)

    def has(self, kind: str, word: str) -> bool:
        """Whether a name or alias is registered."""
        return self._owner(kind, word) is not None

    def get(self, kind: str, name: str) -> Entry:
        """The entry for a name or alias; unknown names get a suggestion and the list of what exists."""
        entry = self._owner(kind, name)
        if entry is None:
            words = list(self._entries[kind]) + list(self._aliases[kind])
            available = ", ".join(sorted(self._entries[kind])) or "none installed"
            what = kind.replace("_", " ")  # direction_finder -> direction finder
            raise GancliError(f"unknown {what} {name!r}{did_you_mean(name, words)}; available: {available}")
        return entry

    def entries(self, kind: str) -> list[Entry]:
        return sorted(self._entries[kind].values(), key=lambda e: e.name)
