"""gancli: a plugin-based toolkit for Generative Adversarial Networks.

Importing gancli is cheap (no torch): the public API here is what plugins code against.
"""

__version__ = "0.1.0"

from .components import Architecture, Augmentation, DataBundle, Dataset, DataSpec, LipschitzEnforcer, Loss
from .components import DirectionFinder, DirectionInputs, EvalSetting, GeneratorRegularizer, Metric, MetricInputs
from .errors import GancliError
from .hookspecs import hookimpl
from .options import Options, field
from .plugins import get_registry

__all__ = [
    "Architecture", "Augmentation", "DataBundle", "DataSpec", "Dataset", "GancliError", "LipschitzEnforcer", "Loss",
    "DirectionFinder", "DirectionInputs", "EvalSetting", "GeneratorRegularizer", "Metric", "MetricInputs",
    "Options", "field", "get_registry", "hookimpl", "__version__",
]
