"""Recipes: named presets of `gancli train` flags that measured well, kept as data (TOML files), not code.

A recipe file says what the preset is for, the dataset it is for, the flags it sets (the keys of a --config file,
which are `gancli train`'s options) and the figure it measured, with the page that has the command::

    name = "mlp-ring"
    description = "all 8 modes of the 2-D ring, at least 95% high-quality points on every seed"
    dataset = "ring"

    [flags]
    arch = "mlp"
    arch-opt = { layout = "flat", width = 400 }
    steps = 10000

    [measured]
    figure = "8 of 8 modes, 96.9% high-quality points (worst seed 96.6%), KL 0.007; 5 seeds"
    doc = "docs/mixtures.md"

`gancli train --recipe NAME` lays the run's own values over the recipe's (gancli.engine.config.train_values);
`gancli list recipes` shows them. This folder holds gancli's own; a plugin ships more through the
``register_recipes`` hook. Adding a recipe is adding a file.
"""

from pathlib import Path

from .book import RecipeBook
from .recipe import Recipe, read_recipe, recipe_files

BUILTIN_DIR = Path(__file__).resolve().parent

__all__ = ["BUILTIN_DIR", "Recipe", "RecipeBook", "read_recipe", "recipe_files"]
