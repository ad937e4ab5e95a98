"""gancli: a plugin-based toolkit for Generative Adversarial Networks.

Importing gancli is cheap (no torch). Here are the interfaces plugins code against and, loaded on first use,
the Python API (gancli.api): ``gancli.train``, ``resume``, ``load``, ``evaluate``, ``list_components``.
"""

__version__ = "0.1.0"

from .components import Architecture, Augmentation, DataBundle, Dataset, DataSpec, LipschitzEnforcer, Logger, Loss
from .components import DirectionFinder, DirectionInputs, EvalSetting, GeneratorRegularizer, Metric, MetricInputs
from .components import Alarm, Diagnostic
from .errors import GancliError
from .hookspecs import hookimpl
from .options import Options, field
from .plugins import get_registry

__all__ = [
    "Architecture", "Augmentation", "DataBundle", "DataSpec", "Dataset", "GancliError", "LipschitzEnforcer", "Loss",
    "DirectionFinder", "DirectionInputs", "EvalSetting", "GeneratorRegularizer", "Metric", "MetricInputs",
    "Logger", "Options", "field", "get_registry", "hookimpl", "__version__", "Alarm", "Diagnostic",
    "Generator", "Grid", "Run", "diagnose", "evaluate", "list_components", "load", "resume", "train",
]
_API = ("Generator", "Grid", "Run", "diagnose", "evaluate", "list_components", "load", "resume", "train")


def __getattr__(name):
    """The API's names, imported when first used, so that `import gancli` stays as light as the interfaces."""
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'gancli' has no attribute {name!r}")
