"""check_recipe: a recipe reads, names what it measured, and what it sets resolves into a training plan."""

from __future__ import annotations

from pathlib import Path

from ..errors import GancliError
from .common import ContractError, require


def check_recipe(recipe, registry=None) -> dict:
    """Check a recipe: its name in ``registry`` (default: gancli's, as a user has it), the path of its TOML file,
    or a :class:`gancli.recipes.Recipe`. Returns the plan `gancli train --recipe NAME --dry-run` prints.

    - the file reads: known keys, one-line texts, flags that are `gancli train` options with valid values;
    - it says what it measured (``[measured] figure``, with the ``doc`` that has the command);
    - its dataset is registered, and its flags resolve into a plan for it through the registry: every
      component exists, every option is known and valid, and they combine (nothing is trained or loaded).
    """
    from ..engine.config import build_config, merge_layers
    from ..engine.plan import make_plan
    from ..plugins import get_registry
    from ..recipes import Recipe, read_recipe

    registry = registry or get_registry()
    try:
        if isinstance(recipe, (str, Path)) and Path(recipe).suffix == ".toml":
            recipe = read_recipe(recipe)
        elif isinstance(recipe, str):
            recipe = registry.recipes.get(recipe)
    except GancliError as exc:
        raise ContractError(str(exc)) from None
    require(isinstance(recipe, Recipe), f"check_recipe takes a recipe name, a .toml path or a Recipe, not {recipe!r}")
    where = f'recipe "{recipe.name}" ({recipe.file})'
    require(recipe.figure, f"{where}: say what it measured: [measured] figure = \"...\" and doc = the page with the "
                           "command behind it")
    require(registry.has("dataset", recipe.dataset),
            f"{where}: its dataset {recipe.dataset!r} is not registered (gancli list datasets)")
    try:
        plan = make_plan(build_config(merge_layers(recipe.values(None, registry), {"recipe": recipe.name})), registry)
    except GancliError as exc:
        raise ContractError(f"{where} does not resolve into a training plan: {exc}") from None
    return plan.as_json()
