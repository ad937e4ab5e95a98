"""Plugin loading: built-in plugins and third-party entry points (group ``gancli``) fill one registry.

Loading is lazy and happens once per process. ``GANCLI_NO_PLUGINS=1`` skips third-party plugins.
A plugin that fails to import, raises in a hook or registers a taken name is recorded (and reported by
``gancli plugins`` and as a warning) while the others keep working.
"""

from __future__ import annotations

import importlib
import os
from importlib import metadata

import pluggy

from . import hookspecs
from .errors import GancliError
from .registry import KINDS, Plugin, Registry

ENTRY_POINT_GROUP = "gancli"
DISABLE_ENV = "GANCLI_NO_PLUGINS"

BUILTIN_PLUGINS = (
    "gancli.default_plugins.architectures",
    "gancli.default_plugins.losses",
    "gancli.default_plugins.lipschitz",
    "gancli.default_plugins.datasets",
    "gancli.default_plugins.metrics",
)

_registry: Registry | None = None


def _gancli_version() -> str:
    from . import __version__

    return __version__


def _third_party_entry_points():
    if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
        return []
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


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
        loaded.append((plugin, obj))

    for module in BUILTIN_PLUGINS:
        add(Plugin(module, "gancli", _gancli_version(), builtin=True), lambda m=module: importlib.import_module(m))
    for ep in _third_party_entry_points() if third_party else []:
        dist = getattr(ep, "dist", None)
        add(Plugin(ep.name, dist.name if dist else None, dist.version if dist else None), ep.load)
    for name, obj in extra_plugins:
        add(Plugin(name), lambda o=obj: o)

    for kind, (hook_name, _, _) in KINDS.items():
        impls = {id(impl.plugin): impl for impl in getattr(pm.hook, hook_name).get_hookimpls()}
        # Call each implementation ourselves, in load order (built-ins first, so they keep their names),
        # so that every registration knows which plugin made it.
        for plugin, obj in loaded:
            impl = impls.get(id(obj))
            if impl is None:
                continue
            plugin.hooks.append(hook_name)

            def register(name, cls, aliases=(), description=None, _kind=kind, _plugin=plugin):
                try:
                    registry.register(_kind, name, cls, _plugin, aliases=aliases, description=description)
                except GancliError as exc:
                    _plugin.errors.append(str(exc))

            try:
                impl.function(register=register)
            except Exception as exc:
                plugin.errors.append(f"{hook_name} raised {type(exc).__name__}: {exc}")
    return registry


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
