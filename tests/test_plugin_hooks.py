"""Every hook is documented in docs/plugins/hooks.md, with its signature, and exercised by a test here.

Hooks that fill a component kind (``KINDS`` in gancli.registry) are exercised generically: a fake plugin
registers a probe component through the hook and it must reach the registry, `gancli list` and `gancli
plugins`. Any other hook needs its own ``test_hook_<name>`` function in this module.
"""

import inspect
import json
import re
import types
from pathlib import Path

import pytest

import gancli
from gancli import hookspecs
from gancli.plugins import HOOK_NAMES, build_registry, reset_registry
from gancli.registry import KINDS
from helpers import run

HOOKS_MD = Path(__file__).resolve().parent.parent / "docs" / "plugins" / "hooks.md"
KIND_OF_HOOK = {hook: kind for kind, (hook, _, _) in KINDS.items()}


def documented_hooks() -> dict:
    """``{hook name: (signature as written, section text)}`` from the page's level-2 headings."""
    text = HOOKS_MD.read_text()
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    sections = {}
    for part in parts:
        heading, _, body = part.partition("\n")
        match = re.fullmatch(r"(\w+)(\(.*\))\s*", heading)
        if match:
            sections[match.group(1)] = (match.group(2), body)
    return sections


def test_hook_names_come_from_the_hookspecs():
    assert set(HOOK_NAMES) >= {"register_losses", "register_lipschitz", "register_architectures",
                               "register_datasets", "register_metrics"}


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_every_hook_is_documented_with_its_signature(hook):
    sections = documented_hooks()
    assert hook in sections, f"docs/plugins/hooks.md has no section '## {hook}(...)'; add one (signature, " \
                             "when it is called, what it registers, an example)"
    signature, body = sections[hook]
    assert signature == str(inspect.signature(getattr(hookspecs, hook))), f"{hook}: the page says {signature}"
    assert "**Called**" in body and "```python" in body, f"{hook}: say when it is called and give an example"
    if hook in KIND_OF_HOOK:
        interface = KINDS[KIND_OF_HOOK[hook]][1].__name__
        assert f"gancli.{interface}" in body, f"{hook}: name the interface it registers, gancli.{interface}"


def test_the_page_documents_no_hook_that_does_not_exist():
    assert set(documented_hooks()) <= set(HOOK_NAMES)


def test_component_hooks_are_documented_in_the_order_they_are_called():
    documented = [hook for hook in documented_hooks() if hook in KIND_OF_HOOK]
    assert documented == [hook for hook, _, _ in KINDS.values()]


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_every_hook_is_exercised(hook):
    if hook in KIND_OF_HOOK:
        exercise_component_hook(hook)
    else:
        assert f"test_hook_{hook}" in globals(), f"hook {hook} has no test: add test_hook_{hook} to {__file__}"


def exercise_component_hook(hook):
    """A fake plugin registers a probe through ``hook``; it reaches the registry, `gancli list` and `plugins`."""
    kind = KIND_OF_HOOK[hook]
    interface = KINDS[kind][1]
    probe = type(f"Probe{interface.__name__}", (interface,), {"__doc__": f"A probe {kind}.", "__module__": __name__})

    def implementation(register):
        register("probe", probe, aliases=("probe-alias",))

    implementation.__name__ = hook
    module = types.SimpleNamespace(**{hook: gancli.hookimpl(implementation)})
    registry = build_registry(extra_plugins=[("probe-plugin", module)], third_party=False)
    entry = registry.get(kind, "probe-alias")
    assert entry.cls is probe and entry.description == f"A probe {kind}."
    assert entry.plugin.name == "probe-plugin" and entry.plugin.hooks == [hook] and not entry.plugin.errors

    reset_registry(registry)
    listing = json.loads(run("list", kind, "--json").stdout)
    assert [item["plugin"] for item in listing[kind] if item["name"] == "probe"] == ["probe-plugin"]
    plugins = json.loads(run("plugins", "--json").stdout)
    assert [p["hooks"] for p in plugins if p["name"] == "probe-plugin"] == [[hook]]


def test_hook_register_recipes(tmp_path):
    """register(path) takes a recipe file (or folder); the recipe reaches the registry, `gancli list recipes`,
    `gancli plugins` and `gancli train --recipe`."""
    recipe = tmp_path / "probe-recipe.toml"
    recipe.write_text('name = "probe-recipe"\ndescription = "a probe recipe"\ndataset = "ring"\n'
                      '[flags]\narch = "mlp"\nsteps = 3\n')

    @gancli.hookimpl
    def register_recipes(register):
        register(recipe)

    module = types.SimpleNamespace(register_recipes=register_recipes)
    registry = build_registry(extra_plugins=[("probe-plugin", module)], third_party=False)
    plugin = registry.recipes.get("probe-recipe").plugin
    assert plugin.name == "probe-plugin" and plugin.hooks == ["register_recipes"] and not plugin.errors

    reset_registry(registry)
    listing = json.loads(run("list", "recipes", "--json").stdout)["recipe"]
    assert [item["plugin"] for item in listing if item["name"] == "probe-recipe"] == ["probe-plugin"]
    plugins = json.loads(run("plugins", "--json").stdout)
    assert [p["components"] for p in plugins if p["name"] == "probe-plugin"] == [["recipe:probe-recipe"]]
    plan = json.loads(run("train", "--recipe", "probe-recipe", "--dry-run").stdout)
    assert plan["recipe"] == "probe-recipe" and plan["steps"] == 3 and plan["data"]["name"] == "ring"
