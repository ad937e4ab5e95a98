"""Schedules: settings that move from START to END over the run, as R3GAN moves all five of its own.

``--schedule NAME=[cosine|linear:]START:END[,warmup=STEPS][,steps=STEPS]`` (repeatable) sets one of
:data:`TARGETS` before every generator step: a linear warm-up from 0 to START over ``warmup`` steps, then a half
cosine (or a straight line) from START to END by step ``steps`` (the run's ``--steps`` when left out), and END
after it. The value is a pure function of the step, so a resumed run takes the same values as one that never
stopped and a checkpoint needs nothing extra; run.json records each schedule with its ``steps`` filled in, so
resuming with a larger ``--steps`` holds END rather than stretching the curve.

This module imports no torch: the config layer uses it to check and record schedules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import GancliError, did_you_mean

SHAPES = ("cosine", "linear")
GRAMMAR = "[cosine|linear:]START:END[,warmup=STEPS][,steps=STEPS]"


@dataclass(frozen=True)
class Target:
    """What a schedule NAME sets: the settings it replaces, what it means and the values it may take."""

    replaces: tuple  # TrainConfig fields a schedule makes meaningless (a layer giving both is refused)
    what: str
    low: float
    high: float = math.inf
    high_open: bool = False  # beta2 must stay below 1

    def allows(self, value: float) -> bool:
        return self.low <= value and (value < self.high if self.high_open else value <= self.high)

    def bounds(self) -> str:
        if self.high == math.inf:
            return f"{self.low:g} or more"
        return f"in [{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


TARGETS = {
    "lr": Target(("lr", "lr_decay"), "the learning rate of both networks", 0.0),
    "beta2": Target(("beta2",), "Adam's beta2 for both networks", 0.0, 1.0, high_open=True),
    "gamma": Target((), "the gamma of every enforcer that has one (r1, r2)", 0.0),
    "ema": Target(("ema",), "the half-life of G's moving average, in images", 0.0),
    "augment_p": Target(("augment_p",), "the augmentation probability", 0.0, 1.0),
}


@dataclass(frozen=True)
class Schedule:
    """START -> END: a linear warm-up from 0 over ``warmup`` steps, then ``shape`` to step ``steps``, then END."""

    start: float
    end: float
    shape: str = "cosine"
    warmup: int = 0
    steps: int | None = None  # None: the run's --steps (filled in when the run is configured)

    def at(self, step: int, run_steps: int | None = None) -> float:
        """The value for the step that follows ``step`` completed ones."""
        length = self.steps if self.steps is not None else run_steps
        if step < self.warmup:
            return self.start * step / self.warmup
        if length is None or step >= length:
            return self.end
        t = (step - self.warmup) / (length - self.warmup)
        # start * (1 - w) + end * w, not start + (end - start) * w: linear to 0 is then exactly start * (1 - t)
        w = t if self.shape == "linear" else (1 - math.cos(math.pi * t)) / 2
        return self.start * (1 - w) + self.end * w

    def spec(self) -> str:
        """The canonical text, as run.json records it."""
        text = f"{self.shape}:{self.start!r}:{self.end!r}"
        if self.warmup:
            text += f",warmup={self.warmup}"
        return text + (f",steps={self.steps}" if self.steps is not None else "")


def parse(name: str, text, run_steps: int | None = None) -> Schedule:
    """The Schedule of ``--schedule NAME=TEXT``, its ``steps`` defaulting to ``run_steps``; one line when wrong."""
    target = TARGETS.get(name)
    if target is None:
        flag = name.replace("_", "-")
        known = [n.replace("_", "-") for n in TARGETS]
        raise GancliError(f"--schedule {flag}: no such schedule{did_you_mean(flag, known)}; "
                          f"schedules: {', '.join(known)}")
    where = f"--schedule {name.replace('_', '-')}={text}"
    if not isinstance(text, str):
        raise GancliError(f"{where}: expected a text {GRAMMAR}, e.g. 2e-4:5e-5")
    curve, *extras = [part.strip() for part in text.split(",")]
    parts = curve.split(":")
    shape = parts.pop(0) if parts and parts[0] in SHAPES else "cosine"
    if len(parts) != 2:
        raise GancliError(f"{where}: expected {GRAMMAR}, e.g. 2e-4:5e-5,warmup=500")
    start, end = (_number(where, part) for part in parts)
    for value in (start, end):
        if not target.allows(value):
            raise GancliError(f"{where}: {target.what} must be {target.bounds()}, got {value:g}")
    counts = {"warmup": 0, "steps": run_steps}
    for extra in extras:
        key, sep, value = extra.partition("=")
        if not sep or key.strip() not in counts:
            raise GancliError(f"{where}: {extra!r} is not warmup=STEPS or steps=STEPS")
        counts[key.strip()] = _count(where, key.strip(), value)
    warmup, steps = counts["warmup"], counts["steps"]
    if warmup and steps is not None and warmup >= steps:
        raise GancliError(f"{where}: the warm-up ({warmup} steps) must end before the schedule does ({steps} steps)")
    return Schedule(start, end, shape, warmup, steps)


def resolve(schedules: dict, run_steps: int) -> dict:
    """``{name: canonical spec}`` with every schedule checked and its ``steps`` filled in: what run.json records."""
    return {name: parse(name, text, run_steps).spec() for name, text in schedules.items()}


def check_plan(plan) -> None:
    """Schedules that have nothing to set in this plan are refused (the others are checked with the config)."""
    config = plan.config
    if "gamma" in config.schedule and not any("gamma" in c.options for c in plan.lipschitz):
        in_use = ", ".join(c.entry.name for c in plan.lipschitz) or "none"
        raise GancliError(f"--schedule gamma=... sets the gamma of r1 and r2, and no enforcer in use has one "
                          f"(in use: {in_use}): add --lipschitz r1 --lipschitz r2")


def _number(where: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise GancliError(f"{where}: {text!r} is not a number; expected {GRAMMAR}")
    return value


def _count(where: str, key: str, text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0 and value == int(value)):
        raise GancliError(f"{where}: {key}={text.strip()} must be a whole number of steps, 0 or more")
    return int(value)


class Scheduler:
    """Sets every scheduled value before each generator step, from the step alone: the optimizers' lr and beta2,
    the enforcers' gamma, the EMA's per-step decay and the augmentation probability.

    ``--lr-decay linear`` is the schedule ``lr=linear:LR:0`` over the current ``--steps``; a roll-back's
    ``lr_scale`` multiplies whatever the learning rate is."""

    def __init__(self, config, optimizers, enforcers=(), ema=None, augment_p=None, lr_scales=None):
        self.config, self.optimizers = config, optimizers
        self.lr_scales = lr_scales or (1.0,) * len(optimizers)  # --d-lr-scale: D's rate is a multiple of G's
        self.enforcers = [e for e in enforcers if hasattr(e, "gamma")]
        self.ema, self.augment_p = ema, augment_p
        self.schedules = {name: parse(name, text, config.steps) for name, text in config.schedule.items()}
        if config.lr_decay == "linear" and "lr" not in self.schedules:
            self.schedules["lr"] = None  # built at each step: it follows the --steps of the moment
        self.values: dict = {}  # the values the last step was taken with

    def value(self, name: str, step: int) -> float:
        schedule = self.schedules[name] or Schedule(self.config.lr, 0.0, "linear")
        return schedule.at(step, self.config.steps)

    def apply(self, step: int, lr_scale: float = 1.0) -> None:
        values = {name: self.value(name, step) for name in self.schedules}
        if "lr" in values:
            values["lr"] *= lr_scale
        self.values = values
        lr = values.get("lr", self.config.lr * lr_scale if lr_scale != 1.0 else None)
        for optimizer, scale in zip(self.optimizers, self.lr_scales):
            for group in optimizer.param_groups:
                if lr is not None:
                    group["lr"] = lr * scale
                if "beta2" in values:
                    group["betas"] = (group["betas"][0], values["beta2"])
        for enforcer in self.enforcers if "gamma" in values else ():
            enforcer.gamma = values["gamma"]
        if "ema" in values:
            half_life = values["ema"]  # images; per step the average keeps 0.5 ** (images per step / half-life)
            self.ema.decay = 0.5 ** (self.config.batch_size / half_life) if half_life > 0 else 0.0
        if "augment_p" in values:
            self.augment_p.state[0] = values["augment_p"]

    def record(self) -> dict:
        """The scheduled values of the last step, for metrics.jsonl (augment_p is logged by the augmentation)."""
        names = {"ema": "ema_half_life"}
        return {names.get(k, k): float(f"{v:.6g}") for k, v in self.values.items() if k != "augment_p"}
