"""Contract checks a plugin author runs in their own tests.

Each ``check_*`` function takes a component class (or an instance), exercises it on tiny CPU inputs and
raises :class:`ContractError` (an ``AssertionError``, so pytest shows it as a failed assertion) with a
sentence saying what is wrong and how to fix it (``check_recipe`` takes a recipe, and resolves it into a
training plan)::

    import gancli.testing
    import gancli_ragan

    def test_contract():
        gancli.testing.check_plugin(gancli_ragan)          # every component the plugin registers

    def test_loss_forms():
        for form in ("bce", "lsgan", "hinge"):
            gancli.testing.check_loss(gancli_ragan.RelativisticAverageLoss, {"form": form})

``use_plugin`` makes a plugin module part of gancli's registry for the length of a ``with`` block,
``installed_plugins`` turns on the installed plugins (as a user has them), and ``run_cli`` runs a gancli
command in-process, so a test can train through the command line.
"""

from .architectures import check_architecture
from .common import ContractError
from .datasets import check_dataset
from .enforcers import EnforcerReport, check_enforcer
from .generator_regularizers import check_generator_regularizer
from .loggers import check_logger
from .losses import check_loss
from .options import check_options
from .plugins import check_plugin, installed_plugins, plugin_registry, run_cli, use_plugin
from .recipes import check_recipe

__all__ = [
    "ContractError", "EnforcerReport", "check_architecture", "check_dataset", "check_enforcer",
    "check_generator_regularizer", "check_logger", "check_loss", "check_options", "check_plugin", "check_recipe",
    "installed_plugins", "plugin_registry", "run_cli", "use_plugin",
]
