"""gancli's Python API: the one way to train, resume, load, sample, edit, export, evaluate and list, which the
`gancli` commands are thin wrappers over. Importing it is cheap; torch loads when a function needs it.

    import gancli
    run = gancli.train(arch="dcgan", loss="wgan-gp", steps=500)     # a Run: its folder, metrics, grids
    g = gancli.load(run)                                            # or "pretrained:faces", g.onnx, a file
    g.images(16, seed=3)                                            # shows itself in Jupyter
    gancli.evaluate(run, metrics="fid")                             # the dict of `gancli evaluate --json`
    gancli.diagnose(run)                                            # its health over time, alarms and advice
"""

from .diagnosis import diagnose
from .evaluation import evaluate
from .generator import Generator, load
from .grid import Grid
from .listing import list_components
from .run import Run
from .training import resume, train

__all__ = ["Generator", "Grid", "Run", "diagnose", "evaluate", "list_components", "load", "resume", "train"]
