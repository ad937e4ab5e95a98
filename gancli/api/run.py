"""A run directory seen from Python: its configuration, metrics, sample grids and generator."""

from __future__ import annotations

import glob
import os

from ..errors import GancliError


class Run:
    """The run in ``path`` (what ``gancli.train`` returns; ``gancli.Run("runs/0001")`` opens one).

    ``config`` is run.json, ``metrics`` the logged records, ``last`` the newest of them; ``samples`` the
    sample-grid files, oldest first, and ``grid()`` one of them as a picture (a run shows its latest grid in
    Jupyter). ``interrupted`` is the step a stopped training wrote its checkpoint at (None otherwise).
    """

    def __init__(self, path, interrupted: int | None = None, record: dict | None = None):
        from ..engine.runs import read_run_json

        self.path = os.fspath(path)
        self.config = read_run_json(self.path)  # "... is not a gancli run directory" for anything else
        self.interrupted, self._record = interrupted, record

    def __fspath__(self) -> str:
        return self.path

    @property
    def metrics(self) -> list:
        """Every record of RUN/metrics.jsonl (step, d_loss, g_loss, d_real, d_fake, images_per_s...), in order."""
        from ..engine.runs import METRICS
        from ..metrics.records import read_jsonl

        return read_jsonl(os.path.join(self.path, METRICS))

    @property
    def evaluations(self) -> list:
        """The results ``gancli.evaluate`` recorded for this run (RUN/evaluations.jsonl), oldest first."""
        from ..metrics.records import EVALUATIONS, read_jsonl

        return read_jsonl(os.path.join(self.path, EVALUATIONS))

    @property
    def last(self) -> dict:
        """The last metrics record (step, losses, speed...); {} before the first."""
        records = self.metrics
        return records[-1] if records else dict(self._record or {})

    @property
    def step(self) -> int:
        """The step of the newest generator saved."""
        from ..engine.checkpoint import read_meta
        from ..engine.runs import generator_file

        try:
            return int(read_meta(generator_file(self.path)).get("step", 0))
        except GancliError:
            return 0

    @property
    def samples(self) -> list:
        """The sample grids written while training (RUN/samples/step-N.png), oldest first."""
        from ..engine.runs import SAMPLES

        return sorted(glob.glob(os.path.join(self.path, SAMPLES, "*.png")))

    def grid(self, index: int = -1):
        """The sample grid ``index`` of :attr:`samples` (the newest by default), as a :class:`Grid`."""
        from .grid import Grid

        files = self.samples
        if not files:
            raise GancliError(f"{self.path} has no sample grids yet; train it first")
        return Grid.from_file(files[index])

    def generator(self, device: str = "cpu"):
        """The run's newest generator, loaded: a :class:`~gancli.api.generator.Generator`."""
        from .generator import load

        return load(self.path, device=device)

    def evaluate(self, **options) -> dict:
        """``gancli.evaluate(run, **options)``."""
        from .evaluation import evaluate

        return evaluate(self.path, **options)

    def report(self, out: str | None = None) -> list:
        """Draw the run's curves as PNG files in ``out`` (default RUN/report): losses.png from the metrics,
        diagnostics.png from its diagnostics signals and alarms (when it has them), metrics.png from the recorded
        evaluations (when there are any); returns the files written."""
        from ..metrics.report import diagnostics_charts, evaluation_charts, loss_charts

        out = os.fspath(out) if out else os.path.join(self.path, "report")
        written = []
        records = self.metrics
        try:
            os.makedirs(out, exist_ok=True)
            for name, image in [("losses.png", loss_charts(records)),
                                ("diagnostics.png", diagnostics_charts(records, self._signals(), self.alarms)),
                                ("metrics.png", evaluation_charts(self.evaluations))]:
                if image is not None:
                    image.save(os.path.join(out, name))
                    written.append(os.path.join(out, name))
        except OSError as exc:
            raise GancliError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
        return written

    @property
    def alarms(self) -> list:
        """The alarms its diagnostics fired (RUN/alarms.jsonl: step, kind, says, advice...), oldest first."""
        from ..diagnostics import ALARMS
        from ..metrics.records import read_jsonl

        return read_jsonl(os.path.join(self.path, ALARMS))

    def diagnose(self) -> dict:
        """``gancli.diagnose(run)``."""
        from .diagnosis import diagnose

        return diagnose(self.path)

    def _signals(self) -> list:
        """The names of the signals its diagnostics log (those whose plugin is installed)."""
        from ..diagnostics.summary import signal_descriptions

        return list(signal_descriptions(self.config.get("diagnostics", []), None))

    def resume(self, steps: int | None = None, **settings) -> "Run":
        """``gancli.resume(run, steps, **settings)``."""
        from .training import resume

        return resume(self.path, steps=steps, **settings)

    def _repr_png_(self):
        return self.grid()._repr_png_() if self.samples else None

    def __repr__(self) -> str:
        state = f", interrupted at step {self.interrupted}" if self.interrupted is not None else ""
        return f"<gancli Run {self.path}: {self.config['arch']['name']} + {self.config['loss']['name']}, " \
               f"step {self.step}{state}>"
