"""Plugin loading: built-in plugins and third-party entry points (group ``gancli``) fill one registry.

Loading is lazy and happens once per process. ``GANCLI_NO_PLUGINS=1`` skips installed third-party plugins;
``GANCLI_PLUGINS_DIR`` (what ``gancli --plugins-dir DIR`` sets) names folders whose ``*.py`` files are loaded
as one-file plugins, even when installed ones are off. A plugin that fails to import, raises in a hook,
misspells a hook or registers a taken name is recorded (and reported by ``gancli plugins`` and as a warning)
while the others keep working.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from importlib import metadata
from pathlib import Path

import pluggy

from . import hookspecs
from .errors import GancliError, did_you_mean
from .options import schema
from .recipes import read_recipe, recipe_files
from .registry import KINDS, Plugin, Registry

ENTRY_POINT_GROUP = "gancli"
DISABLE_ENV = "GANCLI_NO_PLUGINS"
PLUGINS_DIR_ENV = "GANCLI_PLUGINS_DIR"
HOOK_NAMES = tuple(name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "gancli_spec"))

BUILTIN_PLUGINS = (
    "gancli.default_plugins.architectures",
    "gancli.default_plugins.losses",
    "gancli.default_plugins.lipschitz",
    "gancli.default_plugins.datasets",
    "gancli.default_plugins.metrics",
    "gancli.default_plugins.directions",
    "gancli.default_plugins.augmentations",
    "gancli.default_plugins.generator_regularizers",
    "gancli.default_plugins.loggers",
    "gancli.default_plugins.diagnostics",
    "gancli.default_plugins.recipes",
)

_registry: Registry | None = None


def _gancli_version() -> str:
    from . import __version__

    return __version__


def third_party_disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip() not in ("", "0")


def _third_party_entry_points():
    if third_party_disabled():
        return []
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def plugin_dirs() -> list[str]:
    """The folders of one-file plugins: ``GANCLI_PLUGINS_DIR``, several joined by the path separator."""
    return [d for d in os.environ.get(PLUGINS_DIR_ENV, "").split(os.pathsep) if d.strip()]


def use_plugin_dirs(folders) -> None:
    """Load one-file plugins from ``folders`` from now on (the environment carries it to child processes)."""
    os.environ[PLUGINS_DIR_ENV] = os.pathsep.join(os.path.abspath(os.path.expanduser(f)) for f in folders)
    reset_registry()


def _plugin_files(folder: str) -> list[Path]:
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise GancliError(f"plugins folder {folder} does not exist")
    return sorted(p for p in root.glob("*.py") if not p.name.startswith(("_", ".")))


def _load_file(path: Path):
    """Import one file as a module named after it (so its classes have a readable home)."""
    name = path.stem
    previous = sys.modules.get(name)
    if previous is not None and os.path.abspath(getattr(previous, "__file__", "") or "") != str(path.resolve()):
        raise GancliError(f"its module name {name!r} is already taken by {getattr(previous, '__file__', name)}; "
                          "rename the file")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing look classes' modules up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _hook_mistakes(obj) -> list[str]:
    """Hooks gancli would silently never call: unknown (misspelt) names, and hook functions left undecorated."""
    problems = []
    for attr in dir(obj):
        value = getattr(obj, attr, None)
        opts = getattr(value, "gancli_impl", None)
        if opts is not None:
            hook = opts.get("specname") or attr
            if hook not in HOOK_NAMES:
                problems.append(f"implements unknown hook {hook}{did_you_mean(hook, HOOK_NAMES)}; "
                                f"hooks: {', '.join(HOOK_NAMES)}")
        elif attr in HOOK_NAMES and callable(value):
            problems.append(f"{attr} is not decorated with @gancli.hookimpl, so it is never called")
    return problems


def _check_options_schema(kind: str, name: str, cls) -> None:
    """A component whose option schema cannot be read would break `gancli list`; refuse it at registration."""
    from .options import Options

    options = getattr(cls, "Options", None)
    if options is None:
        return
    if not (isinstance(options, type) and issubclass(options, Options)):
        raise GancliError(f"{kind} {name!r}: its Options must subclass gancli.Options")
    try:
        schema(options)
    except TypeError as exc:
        raise GancliError(f"{kind} {name!r}: {exc}") from None


def build_registry(extra_plugins=(), third_party: bool = True) -> Registry:
    """A fresh registry from built-ins, entry points and ``extra_plugins`` (``(name, module_or_object)``)."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    loaded: list[tuple[Plugin, object]] = []

    def add(plugin: Plugin, loader):
        registry.plugins.append(plugin)
        try:
            obj = loader()
            pm.register(obj, name=plugin.name)
        except Exception as exc:  # a broken plugin must not take the others down
            plugin.errors.append(f"failed to load: {type(exc).__name__}: {exc}")
            return
        plugin.errors.extend(_hook_mistakes(obj))
        loaded.append((plugin, obj))

    for module in BUILTIN_PLUGINS:
        add(Plugin(module, "gancli", _gancli_version(), builtin=True), lambda m=module: importlib.import_module(m))
    for ep in _third_party_entry_points() if third_party else []:
        dist = getattr(ep, "dist", None)
        add(Plugin(ep.name, dist.name if dist else None, dist.version if dist else None), ep.load)
    for folder in plugin_dirs():
        try:
            files = _plugin_files(folder)
        except GancliError as exc:
            registry.plugins.append(Plugin(folder, path=folder, errors=[str(exc)]))
            continue
        for path in files:
            add(Plugin(path.stem, path=str(path.resolve())), lambda p=path: _load_file(p))
    for name, obj in extra_plugins:
        add(Plugin(name), lambda o=obj: o)

    for kind, (hook_name, _, _) in KINDS.items():
        _call_hook(pm, hook_name, loaded, lambda plugin, kind=kind: _component_register(registry, kind, plugin))
    _call_hook(pm, "register_recipes", loaded, lambda plugin: _recipe_register(registry, plugin))
    return registry


def _call_hook(pm, hook_name: str, loaded: list, make_register) -> None:
    """Call each plugin's implementation of ``hook_name`` ourselves, in load order (built-ins first, so they keep
    their names), each with a ``register`` callback of its own, so that every registration knows its plugin."""
    impls = {id(impl.plugin): impl for impl in getattr(pm.hook, hook_name).get_hookimpls()}
    for plugin, obj in loaded:
        impl = impls.get(id(obj))
        if impl is None:
            continue
        plugin.hooks.append(hook_name)
        try:
            impl.function(register=make_register(plugin))
        except Exception as exc:
            plugin.errors.append(f"{hook_name} raised {type(exc).__name__}: {exc}")


def _component_register(registry: Registry, kind: str, plugin: Plugin):
    """The ``register(name, cls, aliases=(), description=None)`` callback of a component hook."""

    def register(name, cls, aliases=(), description=None):
        try:
            _check_options_schema(kind, name, cls)
            registry.register(kind, name, cls, plugin, aliases=aliases, description=description)
        except GancliError as exc:
            plugin.errors.append(str(exc))

    return register


def _recipe_register(registry: Registry, plugin: Plugin):
    """The ``register(path)`` callback of register_recipes: a broken file is recorded, the others still register."""

    def register(path):
        try:
            files = recipe_files(path)
        except GancliError as exc:
            plugin.errors.append(str(exc))
            return
        for file in files:
            try:
                recipe = read_recipe(file, plugin)
                registry.recipes.add(recipe)
            except GancliError as exc:
                plugin.errors.append(str(exc))
                continue
            plugin.components.append(("recipe", recipe.name))

    return register


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _registry
    if _registry is None:
        _registry = build_registry()
    return _registry


def reset_registry(registry: Registry | None = None) -> None:
    """Replace (or drop, to rebuild on next use) the process-wide registry; for tests and embedding."""
    global _registry
    _registry = registry


def plugin_problems(registry: Registry) -> list[str]:
    return [f"plugin {p.name}: {err}" for p in registry.plugins for err in p.errors]
