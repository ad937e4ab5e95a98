"""Resolve a TrainConfig through the registry into a Plan: canonical names, full options, checked combinations.

A Plan is what run.json records and what a resumed run is rebuilt from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import GancliError
from ..options import parse_pairs, resolve, to_kwargs
from ..registry import Entry, Registry
from .config import SETTINGS, TrainConfig
from .loggers import check_requirements
from .schedules import check_plan as check_schedules

JSONL = "jsonl"  # the logger of the run's own metrics.jsonl, in every plan


@dataclass
class Choice:
    """A component chosen by name, with every option resolved."""

    entry: Entry
    options: dict

    def build(self):
        return self.entry.cls(**to_kwargs(self.entry.cls.Options, self.options))

    def as_json(self) -> dict:
        return {"name": self.entry.name, "options": self.options, **self.entry.provenance()}


@dataclass
class Plan:
    arch: Choice
    loss: Choice
    lipschitz: list
    data: Choice
    n_critic: int
    config: TrainConfig
    notes: list = field(default_factory=list)
    augment: list = field(default_factory=list)  # augmentation Choices, applied in this order
    g_reg: list = field(default_factory=list)  # generator regulariser Choices, their terms added to G's loss
    log: list = field(default_factory=list)  # logger Choices, jsonl first (make_plan and plan_from_json add it)
    diagnostics: list = field(default_factory=list)  # diagnostic Choices (--diagnostics), [] when off

    def as_json(self) -> dict:
        from .. import __version__

        settings = {name: getattr(self.config, name) for name in SETTINGS}
        return {"gancli_version": __version__, "arch": self.arch.as_json(), "loss": self.loss.as_json(),
                "lipschitz": [c.as_json() for c in self.lipschitz], "data": self.data.as_json(),
                "augment": [c.as_json() for c in self.augment], "g_reg": [c.as_json() for c in self.g_reg],
                "log": [c.as_json() for c in self.log],
                "diagnostics": [c.as_json() for c in self.diagnostics],
                "n_critic": self.n_critic, **settings}


def choose(registry: Registry, kind: str, name: str, raw_options: dict) -> Choice:
    entry = registry.get(kind, name)
    options = resolve(entry.cls.Options, raw_options, f'{kind} "{entry.name}"')
    return Choice(entry, options)


def data_choice(registry: Registry, spec: str, raw_options: dict) -> Choice:
    """``NAME``, ``NAME:ARGUMENT`` (for example ``mnist:~/mnist``) or a folder path."""
    name, sep, argument = spec.partition(":")
    if not registry.has("dataset", name) and os.path.isdir(os.path.expanduser(spec)):
        name, sep, argument = "folder", ":", spec
    entry = registry.get("dataset", name)
    options = dict(raw_options)
    if sep:
        if not entry.cls.argument:
            raise GancliError(f'dataset "{entry.name}" takes no ":" argument; use --data {entry.name}')
        options[entry.cls.argument] = os.path.expanduser(argument)
    return choose(registry, "dataset", entry.name, options)


def _enforcer_options(names: list, raw: dict, flag: str = "--lipschitz-opt", what: str = "enforcer") -> dict:
    """Split ``--lipschitz-opt`` values per enforcer: ``name.key=v`` targets one, ``key=v`` every one."""
    per = {name: {} for name in names}
    for key, value in raw.items():
        target, dot, option = key.rpartition(".")
        if dot:
            if target not in per:
                raise GancliError(f"{flag} {key}: {what} {target!r} is not in use "
                                  f"(in use: {', '.join(names) or 'none'})")
            per[target][option] = value
        else:
            for name in names:
                per[name][option] = value
    return per


def make_plan(config: TrainConfig, registry: Registry) -> Plan:
    arch = choose(registry, "architecture", config.arch, parse_or_dict(config.arch_opt))
    loss = choose(registry, "loss", config.loss, parse_or_dict(config.loss_opt))
    data = data_choice(registry, config.data, parse_or_dict(config.data_opt))
    loss_cls = loss.entry.cls

    requested = config.lipschitz
    if requested is None:
        pairs = [(name, dict(opts)) for name, opts in loss_cls.lipschitz]
    elif "none" in requested:
        if len(requested) > 1:
            raise GancliError("--lipschitz none cannot be combined with other enforcers")
        pairs = []
    else:
        pairs = [(name, {}) for name in requested]
    entries = [registry.get("lipschitz", name) for name, _ in pairs]
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise GancliError(f"each Lipschitz enforcer can be used once; got {', '.join(names)}")
    user_opts = _enforcer_options(names, parse_or_dict(config.lipschitz_opt))
    lipschitz = []
    for entry, (_, preset) in zip(entries, pairs):
        merged = {**preset, **user_opts[entry.name]}
        lipschitz.append(Choice(entry, resolve(entry.cls.Options, merged, f'lipschitz "{entry.name}"')))

    _check_enforcers(registry, loss, lipschitz, explicit_none=requested is not None and not lipschitz)
    n_critic = config.n_critic if config.n_critic is not None else loss_cls.n_critic
    augment = _augment_choices(registry, config, loss)
    g_reg = _g_reg_choices(registry, config)
    log = _logger_choices(registry, config)
    diagnostics = diagnostic_choices(registry, config)
    plan = Plan(arch, loss, lipschitz, data, n_critic, config, augment=augment, g_reg=g_reg, log=log,
                diagnostics=diagnostics)
    check_schedules(plan)
    return plan


def _logger_choices(registry: Registry, config: TrainConfig) -> list:
    """The run's jsonl logger, then those of ``--log NAME`` (repeatable) with their ``--log-opt`` values; a logger
    whose package is missing is refused here, before anything is written."""
    requested = [name for name in config.log if registry.get("logger", name).name != JSONL]
    named = _named_choices(registry, "logger", requested, config.log_opt, "--log-opt", "a logger", "--log NAME",
                           "logger", "loggers")
    choices = [choose(registry, "logger", JSONL, {}), *named]
    check_requirements(choices)
    return choices


def diagnostic_choices(registry: Registry, config: TrainConfig) -> list:
    """The diagnostics of ``--diagnostics``: on (every one registered; those that do not apply to the data are
    left out when training starts), off, or names; with their ``--diagnostics-opt`` values."""
    names = [name.strip() for name in config.diagnostics.split(",") if name.strip()]
    if names == ["off"] or names == ["none"]:
        names = []
    elif names == ["on"]:
        names = [entry.name for entry in registry.entries("diagnostic")]
    elif {"on", "off", "none"} & set(names):
        raise GancliError("--diagnostics takes on, off, or diagnostic names (see gancli list diagnostics)")
    return _named_choices(registry, "diagnostic", names, config.diagnostics_opt, "--diagnostics-opt",
                          "a diagnostic", "--diagnostics NAME,...", "diagnostic", "diagnostics")


def _g_reg_choices(registry: Registry, config: TrainConfig) -> list:
    """The generator regularisers of ``--g-reg NAME`` (repeatable) with their ``--g-reg-opt`` values."""
    requested = list(config.g_reg)
    if "none" in requested:
        if len(requested) > 1:
            raise GancliError("--g-reg none cannot be combined with generator regularizers")
        requested = []
    return _named_choices(registry, "generator_regularizer", requested, config.g_reg_opt, "--g-reg-opt",
                          "a generator regularizer", "--g-reg NAME", "generator regularizer", "generator-regularizers")


def _augment_choices(registry: Registry, config: TrainConfig, loss: Choice) -> list:
    """The augmentations of ``--augment A,B`` with their ``--augment-opt`` values, in order."""
    if config.augment_names and config.adaptive_augment_p and loss.entry.cls.output == "critic":
        raise GancliError(f'--augment-p auto reads the sign of D(real), which means nothing for the unbounded critic '
                          f'of loss "{loss.entry.name}"; give a fixed probability, e.g. --augment-p 0.5')
    return _named_choices(registry, "augmentation", config.augment_names, config.augment_opt, "--augment-opt",
                          "augmentations", "--augment NAME,...", "augmentation", "augmentations")


def _named_choices(registry: Registry, kind: str, requested, options, flag: str, needs: str, add: str, noun: str,
                   listing: str) -> list:
    """Components of ``kind`` named once each, with ``flag`` values split per component (``name.key=v`` or
    ``key=v`` for all)."""
    entries = [registry.get(kind, name) for name in requested]
    names = [e.name for e in entries]
    raw = parse_or_dict(options)
    if raw and not names:
        raise GancliError(f"{flag} needs {needs} to apply to: add {add} (see gancli list {listing})")
    if len(set(names)) != len(names):
        raise GancliError(f"each {noun} can be used once; got {', '.join(names)}")
    per = _enforcer_options(names, raw, flag, noun)
    return [Choice(e, resolve(e.cls.Options, per[e.name], f'{noun} "{e.name}"')) for e in entries]


def _check_enforcers(registry: Registry, loss: Choice, lipschitz: list, explicit_none: bool) -> None:
    """Refuse combinations that make no sense, with the reason."""
    names = [c.entry.name for c in lipschitz]
    for choice in lipschitz:
        for other, reason in choice.entry.cls.conflicts.items():
            if other in names:
                raise GancliError(f"--lipschitz {choice.entry.name} and {other} do not combine: {reason}")
    if loss.entry.cls.output != "critic" or explicit_none:
        return
    if not any(c.entry.cls.bounds_critic for c in lipschitz):
        bounding = ", ".join(e.name for e in registry.entries("lipschitz") if e.cls.bounds_critic)
        what = f"{', '.join(names)} does not bound it" if names else "it has none"
        raise GancliError(f'loss "{loss.entry.name}" trains an unbounded critic that must be kept 1-Lipschitz and '
                          f"{what}: add --lipschitz NAME (one of {bounding}), or --lipschitz none to train without")


def parse_or_dict(values) -> dict:
    """Component options arrive as ``["k=v", ...]`` from the CLI or as a dict from a TOML file."""
    return parse_pairs(values) if isinstance(values, (list, tuple)) else dict(values)


# What runs made before a setting existed were trained with, where today's default differs.
TRAINED_BEFORE = {"precision": "fp32"}


def plan_from_json(data: dict, registry: Registry) -> Plan:
    """Rebuild the Plan of an existing run (resume) from its run.json."""
    try:
        def load(kind, item):
            try:
                entry = registry.get(kind, item["name"])
            except GancliError:
                raise GancliError(missing_component_message(kind, item)) from None
            return Choice(entry, resolve(entry.cls.Options, item["options"], f'{kind} "{entry.name}"'))

        # A setting added after the run was made takes its default, or how such runs were trained.
        augment = [load("augmentation", item) for item in data.get("augment", [])]
        g_reg = [load("generator_regularizer", item) for item in data.get("g_reg", [])]
        log = [load("logger", item) for item in data.get("log", [])]
        if not any(c.entry.name == JSONL for c in log):  # a run from before loggers were components
            log.insert(0, choose(registry, "logger", JSONL, {}))
        check_requirements(log)
        if "diagnostics" in data:
            diagnostics = [load("diagnostic", item) for item in data["diagnostics"]]
        else:  # a run from before diagnostics: resumed with today's, which start from nothing
            diagnostics = diagnostic_choices(registry, TrainConfig())
        config = TrainConfig(**{**TRAINED_BEFORE, **{k: data[k] for k in SETTINGS if k in data}},
                             augment=",".join(c.entry.name for c in augment) or "none",
                             g_reg=[c.entry.name for c in g_reg],
                             log=[c.entry.name for c in log if c.entry.name != JSONL],
                             diagnostics=",".join(c.entry.name for c in diagnostics) or "off")
        return Plan(load("architecture", data["arch"]), load("loss", data["loss"]),
                    [load("lipschitz", item) for item in data["lipschitz"]], load("dataset", data["data"]),
                    int(data["n_critic"]), config, augment=augment, g_reg=g_reg, log=log,
                    diagnostics=diagnostics)
    except (KeyError, TypeError) as exc:
        raise GancliError(f"run.json is incomplete or damaged (missing {exc}); start a new run instead") from None


def missing_component_message(kind: str, item: dict) -> str:
    """Which package to install for a component recorded in a run or checkpoint."""
    where = item.get("distribution")
    hint = f": pip install {where}" if where and where != "gancli" else ""
    if item.get("file"):
        hint = f"; it came from the one-file plugin {item['file']}: load it with gancli --plugins-dir FOLDER"
    return (f"{kind.replace('_', ' ')} {item.get('name')!r} (from plugin {item.get('plugin')}, version {item.get('version')}) "
            f"is not installed{hint}")
