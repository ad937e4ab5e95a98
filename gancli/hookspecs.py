"""The hooks a gancli plugin can implement. Each component hook receives a ``register`` callback::

    register(name, cls, aliases=(), description=None)

``name`` is the kebab-case name users type and checkpoints record; ``cls`` a subclass of the matching
interface in :mod:`gancli.components`; ``description`` defaults to the first line of its docstring.
``register_recipes`` registers data, not classes: its callback is ``register(path)``.
"""

import pluggy

hookspec = pluggy.HookspecMarker("gancli")
hookimpl = pluggy.HookimplMarker("gancli")


@hookspec
def register_architectures(register):
    """Register generator/discriminator pairs (subclasses of ``gancli.Architecture``)."""


@hookspec
def register_losses(register):
    """Register adversarial losses (subclasses of ``gancli.Loss``)."""


@hookspec
def register_lipschitz(register):
    """Register Lipschitz enforcers (subclasses of ``gancli.LipschitzEnforcer``)."""


@hookspec
def register_datasets(register):
    """Register datasets (subclasses of ``gancli.Dataset``)."""


@hookspec
def register_metrics(register):
    """Register evaluation metrics (subclasses of ``gancli.Metric``), run by ``gancli evaluate``."""


@hookspec
def register_direction_finders(register):
    """Register latent direction finders (subclasses of ``gancli.DirectionFinder``), run by
    ``gancli directions fit`` (and, for per-latent editors, ``gancli edit --method``)."""


@hookspec
def register_augmentations(register):
    """Register differentiable augmentations (subclasses of ``gancli.Augmentation``), applied to the
    discriminator's inputs by ``gancli train --augment NAME,...``."""


@hookspec
def register_generator_regularizers(register):
    """Register regularisers of the generator (subclasses of ``gancli.GeneratorRegularizer``), whose terms are
    added to G's loss by ``gancli train --g-reg NAME`` (path-length regularisation)."""


@hookspec
def register_loggers(register):
    """Register loggers (subclasses of ``gancli.Logger``), which receive a run's figures, sample grids and
    generator as it trains, besides its run directory (``gancli train --log NAME``: TensorBoard, MLflow)."""



@hookspec
def register_diagnostics(register):
    """Register training diagnostics (subclasses of ``gancli.Diagnostic``): signals of a run's health computed
    while it trains, and the alarms they raise (``gancli train --diagnostics``, ``gancli diagnose RUN``)."""

@hookspec
def register_recipes(register):
    """Register recipes, named presets of ``gancli train`` flags kept as TOML files (``gancli train --recipe NAME``,
    ``gancli list recipes``): ``register(path)`` takes one recipe file or a folder of ``*.toml`` recipe files."""
