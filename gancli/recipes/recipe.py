"""One recipe: reading and checking its TOML file, and the values it gives a run."""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..engine.config import build_config, config_values, read_toml
from ..errors import GancliError, did_you_mean

KEYS = ("name", "description", "dataset", "flags", "measured")
MEASURED_KEYS = ("figure", "doc")
# Flags a recipe cannot set, and why.
NOT_FLAGS = {"recipe": "a recipe cannot name another recipe",
             "data": "the top-level dataset key says which dataset the recipe is for"}
NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class Recipe:
    """A named preset of `gancli train` values, for one dataset, with the figure it measured."""

    name: str
    description: str  # what it is for, one line
    dataset: str  # the registry name of the dataset it is for
    flags: dict  # TrainConfig values (underscored keys), as a --config file's
    figure: str = ""  # what it measured ("" when its file says nothing)
    doc: str = ""  # where that figure and the command behind it are written up
    file: str = ""
    plugin: object = None  # the gancli.registry.Plugin that shipped it

    def values(self, data: str | None, registry) -> dict:
        """The values a run lays its own over: the flags and the dataset. ``data`` is the run's own --data, if it
        gave one; it must be this recipe's dataset (it may add a path: fashion-mnist:FOLDER)."""
        if data is not None and dataset_name(data, registry) != self.dataset:
            raise GancliError(f'recipe "{self.name}" is for dataset {self.dataset}, not {data}: leave --data out '
                              f"(or give --data {self.dataset}), or pick a recipe for {data} (gancli list recipes)")
        return {"data": data or self.dataset, **copy.deepcopy(self.flags)}

    def flags_as_arguments(self) -> list[str]:
        """The recipe as `gancli train` arguments: what ``--recipe NAME`` stands for."""
        args = ["--data", self.dataset]
        for name, value in self.flags.items():
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):
                args.append(flag if value else {"conditional": "--unconditional"}.get(name, f"--no-{flag[2:]}"))
            elif isinstance(value, dict):
                args += [item for key, option in value.items() for item in (flag, f"{key}={_text(option)}")]
            elif isinstance(value, list):
                args += [item for entry in value for item in (flag, entry)]
            else:
                args += [flag, _text(value)]
        return args

    def as_json(self) -> dict:
        plugin = self.plugin
        return {"name": self.name, "description": self.description, "dataset": self.dataset, "flags": self.flags,
                "arguments": self.flags_as_arguments(), "measured": {"figure": self.figure, "doc": self.doc},
                "file": self.file, "plugin": getattr(plugin, "name", None), "distribution": getattr(plugin, "distribution", None),
                "version": getattr(plugin, "version", None), "builtin": bool(getattr(plugin, "builtin", False))}


def dataset_name(data: str, registry) -> str:
    """The registry name of the dataset a --data value names (``fashion-mnist:DIR`` -> fashion-mnist; a folder)."""
    name = data.partition(":")[0]
    if registry.has("dataset", name):
        return registry.get("dataset", name).name
    return "folder" if os.path.isdir(os.path.expanduser(data)) else name


def recipe_files(path) -> list[Path]:
    """The recipe files at ``path``: the file itself, or every ``*.toml`` in a folder, sorted."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.glob("*.toml") if not p.name.startswith((".", "_")))
    if path.is_file():
        return [path]
    raise GancliError(f"recipe path {path} does not exist (give a .toml file or a folder of them)")


def read_recipe(path, plugin=None) -> Recipe:
    """A checked Recipe from its TOML file: known keys, one-line texts, flags that are `gancli train`'s options with
    values of the right types. Whether its components exist is checked where it is used (and by
    gancli.testing.check_recipe)."""
    raw = read_toml(path, "recipe file")
    where = f"recipe file {path}"
    for key in raw:
        if key not in KEYS:
            raise GancliError(f"{where}: unknown key {key!r}{did_you_mean(key, KEYS)}; a recipe has "
                              f"{', '.join(KEYS)}")
    texts = {key: _line(raw, key, where) for key in ("name", "description", "dataset")}
    if not NAME.fullmatch(texts["name"]):
        raise GancliError(f"{where}: name {texts['name']!r} must be kebab-case (lower-case words joined by -)")
    flags = raw.get("flags", {})
    if not isinstance(flags, dict):
        raise GancliError(f"{where}: flags must be a table of `gancli train` options")
    values = config_values(flags, where)
    for key, reason in NOT_FLAGS.items():
        if key in values:
            raise GancliError(f"{where}: flags cannot set {key}: {reason}")
    try:
        build_config(copy.deepcopy(values))  # the types and ranges a run would refuse
    except GancliError as exc:
        raise GancliError(f"{where}: {exc}") from None
    measured = raw.get("measured", {})
    if not isinstance(measured, dict) or set(measured) - set(MEASURED_KEYS):
        raise GancliError(f"{where}: measured must be a table of {' and '.join(MEASURED_KEYS)}")
    figure, doc = (_line(measured, key, where, required=False) for key in MEASURED_KEYS)
    return Recipe(**texts, flags=values, figure=figure, doc=doc, file=str(path), plugin=plugin)


def _text(value) -> str:
    """A value as the command line spells it (TOML's false as false, not Python's False)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _line(table: dict, key: str, where: str, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or "\n" in value or (required and not value.strip()):
        raise GancliError(f"{where}: {key} must be {'a' if required else 'an optional'} one-line string")
    return value.strip()
