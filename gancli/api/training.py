"""gancli.train and gancli.resume: the one way a run is configured, checked and trained (`gancli train` calls
this module too, so a keyword here and a flag there go through the same TrainConfig, recipe layering and
registry checks, and fail with the same one-line GancliError)."""

from __future__ import annotations

import os
import shutil

from ..engine.config import FIELDS, build_config, config_values, train_values
from ..errors import GancliError, did_you_mean
from .run import Run

# Settings that may change when a run is resumed; everything else is fixed by the run's run.json.
RESUMABLE = ("steps", "sample_every", "checkpoint_every", "log_every", "keep_checkpoints", "device", "on_nonfinite",
             "compile", "on_collapse")
# Keywords of gancli.train that are not TrainConfig fields.
CALL_KEYWORDS = ("out", "config", "progress", "dry_run")


def train(arch: str | None = None, loss: str | None = None, data: str | None = None, steps: int | None = None,
          out: str | None = None, recipe: str | None = None, config: str | None = None, progress="auto",
          dry_run: bool = False, **options) -> Run | dict:
    """Train a GAN, as `gancli train` does, and return its :class:`Run`.

    Every keyword is a `gancli train` flag with underscores (``batch_size=8``, ``z_dim=32``, ``conditional=True``,
    ``lipschitz="gradient-penalty"`` or a list, ``arch_opt={"width": 32}``); unset ones take the recipe's, the
    ``config`` TOML file's or the defaults, in that order. ``out`` is the run directory (default: the next
    ``runs/NNNN``). ``progress``: "auto" (a bar in a terminal or notebook), "bar", "notebook", "lines" or
    False for silence. ``dry_run``: return the resolved configuration (`gancli train --dry-run`'s JSON: what
    run.json will hold) and train nothing.

    Interrupting (Ctrl-C, the notebook's stop button) finishes the current step, writes a checkpoint and
    returns the run with ``run.interrupted`` set to that step; ``gancli.resume(run)`` continues it.
    """
    from .registry import registry_for_command

    given = {"arch": arch, "loss": loss, "data": data, "steps": steps, "recipe": recipe, **options}
    values = python_values(given)
    registry = registry_for_command()
    plan = new_plan(values, config, registry)
    run_dir = os.fspath(out) if out else next_run()
    if dry_run:
        return {"run_dir": run_dir, "resume": False, **plan.as_json()}
    return execute(plan, run_dir, resume=False, progress=progress)


def resume(run, steps: int | None = None, progress="auto", **settings) -> Run:
    """Continue a run from its last checkpoint, to ``steps`` (and with any of :data:`RESUMABLE` changed)."""
    from .registry import registry_for_command

    path = os.fspath(run)
    values = python_values({"steps": steps, **settings}, known=(*FIELDS, "progress"))
    plan = resume_plan(path, values, registry_for_command())
    return execute(plan, path, resume=True, progress=progress)


def python_values(given: dict, known=(*FIELDS, *CALL_KEYWORDS)) -> dict:
    """TrainConfig values from Python keywords (None = unset); a keyword that is none gets "did you mean"."""
    for key in given:
        if key not in known:
            raise GancliError(f"unknown keyword {key!r}{did_you_mean(key, known)}; the keywords are gancli "
                              f"train's flags with underscores (see `gancli train --help`)")
    set_values = {key: value for key, value in given.items() if value is not None}
    return config_values(set_values, "gancli.train")


def new_plan(values: dict, config_file: str | None, registry):
    """The checked Plan of a new run: defaults < the recipe < the ``config_file`` < ``values``."""
    from ..engine.plan import make_plan

    return make_plan(build_config(train_values(values, config_file, registry)), registry)


def resume_plan(run_dir: str, values: dict, registry):
    """The Plan of an existing run, from its run.json, with ``values`` of :data:`RESUMABLE` laid over it."""
    from ..engine.plan import plan_from_json
    from ..engine.runs import read_run_json

    fixed = sorted(set(values) - set(RESUMABLE))
    if fixed:
        raise GancliError(f"--resume continues {run_dir} as it was configured; --{fixed[0].replace('_', '-')} "
                          f"cannot change (allowed: {', '.join('--' + n.replace('_', '-') for n in RESUMABLE)})")
    plan = plan_from_json(read_run_json(run_dir), registry)
    plan.config = build_config({**vars(plan.config), **values})
    return plan


def next_run(base: str = "runs") -> str:
    from ..engine.runs import next_run_dir

    return next_run_dir(base)


def describe(plan) -> str:
    """What a plan trains, in one line: 'dcgan + wgan-gp + gradient-penalty on digits (recipe ...)'."""
    parts = [plan.arch.entry.name, plan.loss.entry.name, *(c.entry.name for c in plan.lipschitz),
             *(c.entry.name + " (G)" for c in plan.g_reg)]
    text = f"{' + '.join(parts)} on {plan.data.entry.name}"
    if plan.augment:
        p = "scheduled" if "augment_p" in plan.config.schedule else plan.config.augment_p
        text += f", augmented ({','.join(c.entry.name for c in plan.augment)}; p {'adaptive' if p == 'auto' else p})"
    return text + (f" (recipe {plan.config.recipe})" if plan.config.recipe else "")


def execute(plan, run_dir: str, resume: bool, progress="auto", hint: str | None = None) -> Run | None:
    """Train ``plan`` into ``run_dir`` (under torchrun, on every rank; the Run comes back on rank 0, None on the
    others). A new run that fails before its first checkpoint is removed, so ``run_dir`` stays free for the retry;
    an interrupted one keeps its checkpoint and comes back with ``interrupted`` set. ``hint`` is how the caller
    continues a run (the CLI's command, or ``gancli.resume``), for the interruption message."""
    from ..engine import distributed, runs
    from ..engine.trainer import Reporter, TrainingInterrupted, train as train_loop
    from .progress import reporter_for

    world = distributed.join(plan.config.device)  # under torchrun; a single process otherwise
    interrupted, created = None, False
    try:
        run_dir = world.agree_text(run_dir)  # rank 0 numbers a new run
        created = world.is_main and not resume and not os.path.exists(run_dir)
        reporter = reporter_for(progress) if world.is_main else Reporter()
        ranks = f" on {world.size} processes" if world.active else ""
        reporter.message(f"run {run_dir}: {describe(plan)}{ranks}")
        try:
            record = train_loop(plan, run_dir, reporter, resume=resume)
            world.barrier()  # tear the group down together: a rank leaving early can abort in gloo's threads
        except TrainingInterrupted as stop:
            world.barrier()
            interrupted, record = stop.step, None
            hint = hint or f"gancli.resume({run_dir!r}, steps=...)"
            reporter.message(f"interrupted at step {stop.step}; checkpoint saved. Continue with: {hint}")
    except BaseException:
        if created and os.path.isdir(run_dir) and not runs.checkpoints(run_dir):
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing trained: no half-written run left behind
        raise
    finally:
        distributed.leave()
    if not world.is_main:
        return None
    return Run(run_dir, interrupted=interrupted, record=record)
