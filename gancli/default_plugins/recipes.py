"""Built-in recipes: the TOML files in gancli/recipes/, presets of `gancli train` flags with the figure each measured."""

import gancli
from gancli.recipes import BUILTIN_DIR


@gancli.hookimpl
def register_recipes(register):
    register(BUILTIN_DIR)
