"""The recipes of a registry, by name."""

from __future__ import annotations

from ..errors import GancliError, did_you_mean


class RecipeBook:
    """Recipes by name. A name is shipped once: run.json records it, so it must mean one preset."""

    def __init__(self):
        self._recipes = {}

    def add(self, recipe) -> None:
        """Add a recipe; a name already taken raises GancliError naming both plugins."""
        owner = self._recipes.get(recipe.name)
        if owner is not None:
            raise GancliError(f"recipe name {recipe.name!r} ({recipe.file}) is already registered by plugin "
                              f"{getattr(owner.plugin, 'name', None)} ({owner.file})")
        self._recipes[recipe.name] = recipe

    def get(self, name: str):
        """The recipe called ``name``; an unknown name gets a suggestion and the list of what exists."""
        recipe = self._recipes.get(name)
        if recipe is None:
            available = ", ".join(sorted(self._recipes)) or "none installed"
            raise GancliError(f"unknown recipe {name!r}{did_you_mean(name, self._recipes)}; available: {available} "
                              f"(gancli list recipes)")
        return recipe

    def entries(self) -> list:
        return sorted(self._recipes.values(), key=lambda recipe: recipe.name)

    def __contains__(self, name) -> bool:
        return name in self._recipes
