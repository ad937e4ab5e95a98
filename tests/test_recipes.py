"""Recipes: named presets of `gancli train` flags in TOML files. --recipe NAME applies one under --config and the
flags, run.json records it, resume is untouched, a plugin can ship its own, and bad input is one line each."""

import json
import types
from pathlib import Path

import pytest

import gancli
import gancli.testing
from gancli.plugins import build_registry, get_registry, reset_registry
from gancli.recipes import BUILTIN_DIR, read_recipe
from helpers import one_line_error, run

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(path.stem for path in BUILTIN_DIR.glob("*.toml"))
RECIPE = """name = "{name}"
description = "a tiny ring preset for tests"
dataset = "{dataset}"

[flags]
arch = "mlp"
arch-opt = {{ layout = "flat", width = 8, g_norm = "none" }}
lipschitz = ["r1"]
lipschitz-opt = {{ gamma = 0.5 }}
z-dim = 2
batch-size = 16
steps = 2
log-every = 1

[measured]
figure = "nothing worth citing"
doc = "docs/training.md#recipes"
"""


def dry_run(*args) -> dict:
    result = run("train", *args, "--dry-run")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_recipe(folder, name="tiny-ring", dataset="ring", text=RECIPE):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text.format(name=name, dataset=dataset))
    return path


def recipe_plugin(folder):
    """A plugin whose whole content is a folder of recipe files."""

    @gancli.hookimpl
    def register_recipes(register):
        register(folder)

    return types.SimpleNamespace(register_recipes=register_recipes)


def use(module, name="recipe-plugin"):
    registry = build_registry(extra_plugins=[(name, module)], third_party=False)
    reset_registry(registry)
    return registry


# --- the shipped recipes -------------------------------------------------------------------------------


def test_the_measured_recipes_are_shipped():
    assert {"mlp-ring", "mlp-grid", "dcgan-stacked-digits", "stylegan2-faces"} <= set(SHIPPED)
    assert [recipe.name for recipe in get_registry().recipes.entries()] == SHIPPED  # file name = recipe name


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_recipe_resolves_and_cites_a_page_that_exists(name):
    plan = gancli.testing.check_recipe(name)
    recipe = get_registry().recipes.get(name)
    assert plan["recipe"] == name and plan["data"]["name"] == recipe.dataset
    page, _, _ = recipe.doc.partition("#")
    assert (ROOT / page).is_file(), f"recipe {name} cites {recipe.doc}, which is not in the repository"


@pytest.mark.parametrize("name", SHIPPED)
def test_a_recipe_is_the_flags_it_lists(name):
    recipe = get_registry().recipes.get(name)
    by_name, by_flags = dry_run("--recipe", name), dry_run(*recipe.flags_as_arguments())
    assert by_name.pop("recipe") == name and by_flags.pop("recipe") == ""
    assert by_name == by_flags


def test_the_training_page_lists_every_shipped_recipe():
    page = (ROOT / "docs" / "training.md").read_text()
    section = page[page.index("## Recipes"):page.index("## Configuration files")]
    assert [name for name in SHIPPED if f"| `{name}` |" not in section] == []


def test_the_stylegan2_faces_recipe_is_the_one_measured():
    plan = dry_run("--recipe", "stylegan2-faces")
    assert plan["arch"]["name"] == "stylegan2" and plan["data"]["name"] == "faces"
    assert plan["lipschitz"][0]["name"] == "r1" and plan["lipschitz"][0]["options"] == {"gamma": 0.01, "interval": 16}
    assert (plan["ema"], plan["beta1"], plan["beta2"], plan["lr"], plan["batch_size"]) == (0.999, 0, 0.99, 0.0025, 32)


# --- applying one ----------------------------------------------------------------------------------------


def test_flags_override_a_recipe_option_by_option():
    plan = dry_run("--recipe", "mlp-grid", "--arch-opt", "width=64", "--lipschitz-opt", "r1.gamma=1", "--steps", 5)
    assert plan["arch"]["options"] == {"width": 64, "layout": "flat", "g_norm": "none", "init": "torch"}
    assert plan["lipschitz"][0]["options"]["gamma"] == 1.0 and plan["steps"] == 5
    assert plan["lr_decay"] == "linear" and plan["z_dim"] == 2 and plan["recipe"] == "mlp-grid"


def test_another_component_drops_the_options_the_recipe_gave_the_one_it_replaces():
    plan = dry_run("--recipe", "mlp-grid", "--lipschitz", "spectral-norm")  # the recipe's gamma is R1's
    assert [item["name"] for item in plan["lipschitz"]] == ["spectral-norm"]
    assert plan["arch"]["options"]["width"] == 400


def test_a_config_file_may_name_a_recipe_and_sits_between_it_and_the_flags(tmp_path):
    (tmp_path / "run.toml").write_text('recipe = "mlp-ring"\nsteps = 7\nbatch-size = 64\n[arch-opt]\nwidth = 32\n')
    plan = dry_run("--config", tmp_path / "run.toml", "--steps", 3)
    assert plan["recipe"] == "mlp-ring" and plan["data"]["name"] == "ring"
    assert (plan["steps"], plan["batch_size"], plan["arch"]["options"]["width"]) == (3, 64, 32)
    assert plan["arch"]["options"]["layout"] == "flat"


def test_an_explicit_dataset_must_be_the_recipes(tmp_path):
    assert dry_run("--recipe", "mlp-ring", "--data", "ring")["data"]["name"] == "ring"
    one_line_error(run("train", "--recipe", "mlp-ring", "--data", "grid", "--dry-run"),
                   'recipe "mlp-ring" is for dataset ring, not grid')
    one_line_error(run("train", "--recipe", "dcgan-stacked-digits", "--data", f"fashion-mnist:{tmp_path}",
                       "--dry-run"), "is for dataset stacked-digits, not fashion-mnist:")


def test_an_unknown_recipe_gets_did_you_mean():
    one_line_error(run("train", "--recipe", "mlp-rnig", "--dry-run"),
                   "unknown recipe 'mlp-rnig' (did you mean \"mlp-ring\"?); available: ")


def test_run_json_records_the_recipe_and_resume_is_untouched(tmp_path):
    registry = use(recipe_plugin(write_recipe(tmp_path / "recipes").parent))
    out = tmp_path / "run"
    result = run("train", "--recipe", "tiny-ring", "--out", out)
    assert result.exit_code == 0, result.output
    assert "(recipe tiny-ring)" in result.output
    recorded = json.loads((out / "run.json").read_text())
    assert recorded["recipe"] == "tiny-ring" and recorded["steps"] == 2 and recorded["z_dim"] == 2
    assert recorded["arch"]["options"]["width"] == 8 and recorded["lipschitz"][0]["options"]["gamma"] == 0.5

    write_recipe(tmp_path / "recipes", text=RECIPE.replace("width = 8", "width = 16"))  # the recipe changes
    reset_registry(registry)
    assert run("train", "--resume", out, "--steps", 3).exit_code == 0
    resumed = json.loads((out / "run.json").read_text())
    assert resumed["steps"] == 3 and resumed["arch"] == recorded["arch"] and resumed["recipe"] == "tiny-ring"
    one_line_error(run("train", "--resume", out, "--recipe", "mlp-ring"), "--recipe cannot change")


# --- listing ------------------------------------------------------------------------------------------------


def test_list_recipes_shows_what_each_is_for_and_what_it_measured():
    listing = json.loads(run("list", "recipes", "--json").stdout)
    assert list(listing) == ["recipe"]
    ring = next(item for item in listing["recipe"] if item["name"] == "mlp-ring")
    assert ring["dataset"] == "ring" and ring["builtin"] and "96.9%" in ring["measured"]["figure"]
    assert ring["measured"]["doc"] == "docs/mixtures.md" and ring["arguments"][:2] == ["--data", "ring"]
    text = run("list", "recipes").output
    assert "mlp-grid" in text and "docs/mixtures.md" in text and "measured:" in text
    assert "recipe" in json.loads(run("list", "--json").output)  # everything includes the recipes
    one_line_error(run("list", "recipez"), "unknown component kind 'recipez' (did you mean \"recipes\"?)")


# --- plugins and bad files ------------------------------------------------------------------------------


def test_a_plugin_ships_recipes_and_a_broken_file_does_not_stop_the_others(tmp_path):
    folder = tmp_path / "recipes"
    write_recipe(folder)
    (folder / "broken.toml").write_text("name = [")
    registry = use(recipe_plugin(folder))
    plugin = next(p for p in registry.plugins if p.name == "recipe-plugin")
    assert plugin.components == [("recipe", "tiny-ring")] and plugin.hooks == ["register_recipes"]
    assert len(plugin.errors) == 1 and "broken.toml is not valid TOML" in plugin.errors[0]
    listed = next(i for i in json.loads(run("list", "recipes", "--json").stdout)["recipe"] if i["name"] == "tiny-ring")
    assert listed["plugin"] == "recipe-plugin" and not listed["builtin"]
    assert dry_run("--recipe", "tiny-ring")["arch"]["options"]["width"] == 8


def test_a_recipe_name_shipped_twice_names_both_plugins(tmp_path):
    registry = use(recipe_plugin(write_recipe(tmp_path / "mine", name="mlp-ring").parent))
    errors = next(p for p in registry.plugins if p.name == "recipe-plugin").errors
    assert errors == [f"recipe name 'mlp-ring' ({tmp_path / 'mine' / 'mlp-ring.toml'}) is already registered by "
                      f"plugin gancli.default_plugins.recipes ({BUILTIN_DIR / 'mlp-ring.toml'})"]
    assert get_registry().recipes.get("mlp-ring").plugin.builtin


@pytest.mark.parametrize("change, fragment", [
    (lambda t: t.replace("description", "descripton"), "unknown key 'descripton' (did you mean \"description\"?)"),
    (lambda t: t.replace("z-dim", "z-dims"), "unknown key 'z-dims' (did you mean \"z_dim\"?)"),
    (lambda t: t.replace("steps = 2", 'steps = "two"'), "steps must be a number"),
    (lambda t: t.replace("steps = 2", 'data = "grid"'), "flags cannot set data: the top-level dataset key"),
    (lambda t: t.replace("steps = 2", 'recipe = "mlp-ring"'), "flags cannot set recipe"),
    (lambda t: t.replace('name = "tiny-ring"', 'name = "Tiny Ring"'), "must be kebab-case"),
    (lambda t: t.replace('dataset = "ring"\n', ""), "dataset must be a one-line string"),
    (lambda t: t.replace("figure =", "figures ="), "measured must be a table of figure and doc"),
])
def test_bad_recipe_files_are_one_line_each(tmp_path, change, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(change(RECIPE.format(name="tiny-ring", dataset="ring")))
    with pytest.raises(gancli.GancliError, match="recipe file .*bad.toml: ") as error:
        read_recipe(path)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_check_recipe_finds_what_does_not_resolve(tmp_path):
    broken = write_recipe(tmp_path, text=RECIPE.replace('arch = "mlp"', 'arch = "mlpp"'))
    with pytest.raises(gancli.testing.ContractError, match="does not resolve into a training plan: unknown "
                                                           "architecture 'mlpp'"):
        gancli.testing.check_recipe(broken)
    unmeasured = write_recipe(tmp_path, name="unmeasured", text=RECIPE.split("[measured]")[0])
    with pytest.raises(gancli.testing.ContractError, match="say what it measured"):
        gancli.testing.check_recipe(unmeasured)
    elsewhere = write_recipe(tmp_path, name="elsewhere", dataset="nowhere")
    with pytest.raises(gancli.testing.ContractError, match="its dataset 'nowhere' is not registered"):
        gancli.testing.check_recipe(elsewhere)


def test_check_plugin_checks_the_recipes_a_plugin_ships(tmp_path):
    folder = tmp_path / "recipes"
    write_recipe(folder)
    assert gancli.testing.check_plugin(recipe_plugin(folder), name="p").components == [("recipe", "tiny-ring")]
    write_recipe(folder, text=RECIPE.replace('"r1"', '"r9"'))
    with pytest.raises(gancli.testing.ContractError, match="unknown lipschitz 'r9'"):
        gancli.testing.check_plugin(recipe_plugin(folder), name="p")
