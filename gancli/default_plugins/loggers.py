"""Built-in loggers: the run's own metrics.jsonl (always written) and TensorBoard event files (``--log tensorboard``).

Both follow a resumed run the way its checkpoint does: what was logged after the checkpoint it continues from is
dropped (jsonl) or purged (TensorBoard), so every step appears once, with the values of the run that went on.
"""

from __future__ import annotations

import json
import os
import time

import gancli

METRICS = "metrics.jsonl"  # gancli.engine.runs.METRICS, spelt here so that registering imports no engine


class JsonlLogger(gancli.Logger):
    """The run's metrics.jsonl, one JSON object per logged step: always written, --log adds loggers beside it.

    gancli's own readers (``gancli report``, the Python API's ``Run.metrics``) read this file, so a run keeps it
    whatever else it logs to; naming it in ``--log`` changes nothing.
    """

    def start(self, run_dir: str, config: dict, step: int = 0) -> None:
        self.path = os.path.join(run_dir, METRICS)
        truncate_jsonl(self.path, step)

    def log_scalars(self, step: int, values: dict) -> None:
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"step": step, **values}) + "\n")

    def rewind(self, step: int) -> None:
        truncate_jsonl(self.path, step)


def truncate_jsonl(path: str, step: int) -> None:
    """Drop the lines past ``step`` (written after the checkpoint a run continues from) and lines torn by a crash."""
    if not os.path.isfile(path):
        return
    kept = []
    with open(path) as fh:
        for line in fh:
            try:
                if int(json.loads(line)["step"]) <= step:
                    kept.append(line if line.endswith("\n") else line + "\n")
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a crash
    with open(path + ".tmp", "w") as fh:
        fh.writelines(kept)
    os.replace(path + ".tmp", path)


class TensorBoardLogger(gancli.Logger):
    """TensorBoard event files in the run directory: every logged figure, the sample grids, the resolved config.

    Written through tensorboardX (``pip install 'gancli[tensorboard]'``), whose writer thread does the file I/O;
    watch with ``tensorboard --logdir runs``. A resumed run opens a new event file that purges the steps after its
    checkpoint, which TensorBoard's reader then hides, as metrics.jsonl drops them.
    """

    requires = {"tensorboardX": "gancli[tensorboard]"}

    class Options(gancli.Options):
        folder: str = gancli.field("tensorboard", help="folder of the event files, inside the run directory")
        flush_secs: int = gancli.field(10, help="seconds between the writer thread's flushes to disk", min=1)

    def start(self, run_dir: str, config: dict, step: int = 0) -> None:
        self.logdir = os.path.join(run_dir, self.folder)
        self._open(step)
        text = "```json\n" + json.dumps(config, indent=2) + "\n```"  # TensorBoard renders text as markdown
        self.writer.add_text("config", text, global_step=step)

    def _open(self, step: int) -> None:
        from tensorboardX import SummaryWriter

        # purge_step: steps from there on, written by an earlier session of the run, are hidden by the reader. The
        # suffix keeps a session that starts in the same second as the last (a roll-back) from overwriting its
        # file, and sorts after it, which is the order the reader goes by.
        self.writer = SummaryWriter(self.logdir, purge_step=step + 1 if step else None, flush_secs=self.flush_secs,
                                    filename_suffix=f".{time.time_ns()}")

    def log_scalars(self, step: int, values: dict) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)

    def log_images(self, step: int, name: str, path: str) -> None:
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
        self.writer.add_image(name, pixels, step, dataformats="HWC")

    def rewind(self, step: int) -> None:
        self.writer.close()
        self._open(step)

    def finish(self) -> None:
        self.writer.close()


@gancli.hookimpl
def register_loggers(register):
    register("jsonl", JsonlLogger)
    register("tensorboard", TensorBoardLogger, aliases=("tb",))
