"""Whole plugins: build a registry with one, check everything it registers, run the CLI with it."""

from __future__ import annotations

import contextlib
import os

from ..plugins import DISABLE_ENV, build_registry, get_registry, reset_registry
from .architectures import check_architecture
from .common import require
from .datasets import check_dataset
from .enforcers import check_enforcer
from .generator_regularizers import check_generator_regularizer
from .loggers import check_logger
from .losses import check_loss
from .options import check_options
from .recipes import check_recipe

CHECKS = {"loss": check_loss, "lipschitz": check_enforcer, "architecture": check_architecture,
          "dataset": check_dataset, "generator_regularizer": check_generator_regularizer, "logger": check_logger}


def plugin_registry(module, name: str | None = None):
    """A registry of gancli's built-ins plus ``module`` (installed plugins left out); fails on plugin errors."""
    name = name or getattr(module, "__name__", "plugin-under-test")
    registry = build_registry(extra_plugins=[(name, module)], third_party=False)
    plugin = next(p for p in registry.plugins if p.name == name)
    require(not plugin.errors, f"plugin {name} did not load cleanly: {'; '.join(plugin.errors)}")
    return registry


@contextlib.contextmanager
def use_plugin(module, name: str | None = None):
    """Within the block, gancli (its CLI included) uses a registry of the built-ins plus ``module``."""
    registry = plugin_registry(module, name)
    reset_registry(registry)
    try:
        yield registry
    finally:
        reset_registry()


@contextlib.contextmanager
def installed_plugins():
    """Within the block, gancli loads installed plugins through their entry points, as it does for a user
    (``GANCLI_NO_PLUGINS`` unset, registry rebuilt); yields that registry."""
    saved = os.environ.pop(DISABLE_ENV, None)
    reset_registry()
    try:
        yield get_registry()
    finally:
        if saved is not None:
            os.environ[DISABLE_ENV] = saved
        reset_registry()


def check_plugin(module, options: dict | None = None, name: str | None = None):
    """Load ``module`` as a plugin and run the matching contract check on every component it registers, and
    :func:`check_recipe` on every recipe it ships.

    ``options`` maps a component name to the options to check it with (``{"shapes": {"n": 64}}`` keeps a
    dataset small); other components are checked with their defaults. Every component's option schema is
    checked too. Returns the :class:`gancli.registry.Plugin` record (hooks, components).
    """
    registry = plugin_registry(module, name)
    plugin = registry.plugins[-1]
    require(plugin.components, f"plugin {plugin.name} registered no components; are its hook functions "
                               "decorated with @gancli.hookimpl and named after a hook?")
    options = options or {}
    for kind, component in plugin.components:
        if kind == "recipe":
            check_recipe(component, registry)
            continue
        entry = registry.get(kind, component)
        given = options.get(component, {})
        check_options(entry.cls, given)
        check = CHECKS.get(kind)
        if check is not None:
            check(entry.cls, given)
    return plugin


def run_cli(*args, env: dict | None = None):
    """Run ``gancli ARGS`` in-process; returns Click's result (``exit_code``, ``output`` with stderr mixed in)."""
    from click.testing import CliRunner

    from ..cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
