"""Training configuration: defaults < --recipe NAME < --config FILE.toml < command-line flags."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from ..errors import GancliError, did_you_mean
from ..options import parse_pairs
from .schedules import GRAMMAR, TARGETS, resolve as resolve_schedules


@dataclass
class TrainConfig:
    """What the user asked for, before names are resolved through the registry."""

    arch: str = "dcgan"
    loss: str = "bce"
    lipschitz: list = None  # None: the loss's own enforcers; ["none"]: explicitly none
    data: str = "digits"
    arch_opt: dict = field(default_factory=dict)
    loss_opt: dict = field(default_factory=dict)
    lipschitz_opt: dict = field(default_factory=dict)  # "key" or "enforcer.key" -> value
    data_opt: dict = field(default_factory=dict)
    g_reg: list = field(default_factory=list)  # generator regularisers by name; ["none"] for none
    g_reg_opt: dict = field(default_factory=dict)  # "key" or "regularizer.key" -> value
    log: list = field(default_factory=list)  # loggers by name, beside metrics.jsonl (always written)
    log_opt: dict = field(default_factory=dict)  # "key" or "logger.key" -> value
    conditional: bool = False
    ema: float = 0.0  # decay of the generator's exponential moving average; 0 = off
    pack: int = 1  # PacGAN: the discriminator judges this many samples at once
    steps: int = 2000
    batch_size: int = 128
    z_dim: int = 64
    n_critic: int = None  # None: the loss's default
    lr: float = 2e-4
    lr_decay: str = "none"  # "linear": both learning rates fall linearly to 0 at the last step
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    device: str = "auto"
    sample_every: int = 200
    checkpoint_every: int = 500
    log_every: int = 10
    keep_checkpoints: int = 3
    on_nonfinite: str = "stop"  # "rollback": back to the last checkpoint with the learning rate halved
    diagnostics: str = "on"  # "on" (every applicable diagnostic), "off", or names, comma-separated
    diagnostics_opt: dict = field(default_factory=dict)  # "key" or "diagnostic.key" -> value
    diagnostics_every: int = 0  # steps between diagnostics computations; 0: each diagnostic's own interval
    on_collapse: str = "continue"  # "stop": a clean stop with a checkpoint when a diagnostic's alarm fires
    d_lr_scale: float = 1.0  # the discriminator's learning rate is --lr times this
    augment: str = "none"  # augmentation names, comma-separated, applied to D's inputs in this order
    augment_opt: dict = field(default_factory=dict)  # "key" or "augmentation.key" -> value
    augment_p: str = "auto"  # "auto" (ADA's adaptive p, from 0) or a fixed probability in [0, 1]
    ada_target: float = 0.6  # the r_t = E[sign(D(real))] that adaptive p steers towards
    ada_kimg: float = 100.0  # thousands of real images over which adaptive p can move from 0 to 1
    schedule: dict = field(default_factory=dict)  # lr, beta2, gamma, ema, augment_p -> START:END... (schedules.py)
    precision: str = "auto"  # bf16 where the hardware has it, for images (speed.resolve_precision); fp32; bf16
    compile: bool = False  # torch.compile the networks (opt-in: slow start, faster steps)
    recipe: str = ""  # the recipe these values were laid over ("" for none): recorded, its values already in place

    @property
    def augment_names(self) -> list:
        names = [name.strip() for name in self.augment.split(",") if name.strip()]
        return [] if names == ["none"] else names

    @property
    def fixed_augment_p(self) -> float | None:
        """The fixed probability, or None for ``auto``."""
        return None if self.augment_p == "auto" else float(self.augment_p)

    @property
    def adaptive_augment_p(self) -> bool:
        """ADA's adaptive p: ``auto``, unless a schedule sets p (which replaces --augment-p)."""
        return self.augment_p == "auto" and "augment_p" not in self.schedule

    def check(self) -> None:
        """Refuse impossible values with one clear line each."""
        positive = ("batch_size", "z_dim", "sample_every", "checkpoint_every", "log_every", "keep_checkpoints")
        for name in positive:
            if getattr(self, name) < 1:
                raise GancliError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.steps < 0:
            raise GancliError(f"--steps must be 0 or more, got {self.steps}")
        if not 0 <= self.ema < 1:
            raise GancliError(f"--ema must be in [0, 1) (for example 0.999; 0 turns it off), got {self.ema}")
        if self.pack < 1:
            raise GancliError(f"--pack must be at least 1, got {self.pack}")
        if self.batch_size % self.pack:
            raise GancliError(f"--batch-size {self.batch_size} must be a multiple of --pack {self.pack}")
        if self.pack > 1 and self.conditional:
            raise GancliError("--pack does not combine with --conditional: a packed group mixes classes")
        if self.n_critic is not None and self.n_critic < 1:
            raise GancliError(f"--n-critic must be at least 1, got {self.n_critic}")
        if not self.lr > 0:
            raise GancliError(f"--lr must be positive, got {self.lr}")
        if self.lr_decay not in LR_DECAYS:
            raise GancliError(f"--lr-decay must be one of {', '.join(LR_DECAYS)}, got {self.lr_decay!r}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise GancliError(f"--{name} must be in [0, 1), got {getattr(self, name)}")
        if self.on_nonfinite not in ON_NONFINITE:
            raise GancliError(f"--on-nonfinite must be one of {', '.join(ON_NONFINITE)}, got {self.on_nonfinite!r}")
        if self.on_collapse not in ON_COLLAPSE:
            raise GancliError(f"--on-collapse must be one of {', '.join(ON_COLLAPSE)}, got {self.on_collapse!r}")
        if self.diagnostics_every < 0:
            raise GancliError(f"--diagnostics-every must be 0 (each diagnostic's own interval) or more, "
                              f"got {self.diagnostics_every}")
        if not self.d_lr_scale > 0:
            raise GancliError(f"--d-lr-scale must be positive, got {self.d_lr_scale}")
        self._check_augment()
        self._check_schedules()
        if self.precision not in PRECISIONS:
            raise GancliError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.device not in ("auto", "cpu", "cuda", "mps") and not self.device.startswith("cuda:"):
            raise GancliError(f"--device must be auto, cpu or cuda (or cuda:N), got {self.device!r}")

    def _check_augment(self) -> None:
        names = self.augment_names
        if "none" in names:
            raise GancliError("--augment none cannot be combined with augmentations")
        if self.augment_p != "auto":
            try:
                p = float(self.augment_p)
            except ValueError:
                p = math.nan
            if not 0 <= p <= 1:
                raise GancliError(f"--augment-p must be auto or a probability in [0, 1], got {self.augment_p!r}")
        if not 0 < self.ada_target < 1:
            raise GancliError(f"--ada-target must be in (0, 1) (StyleGAN2-ADA: 0.6), got {self.ada_target}")
        if not self.ada_kimg > 0:
            raise GancliError(f"--ada-kimg must be positive, got {self.ada_kimg}")

    def _check_schedules(self) -> None:
        """Each schedule's spec is checked as it is read (build_config); here, what it needs of the rest."""
        if "augment_p" in self.schedule and not self.augment_names:
            raise GancliError("--schedule augment-p=... sets the probability of augmentations, and there are none: "
                              "add --augment NAME,... (see gancli list augmentations)")
        if "lr" in self.schedule and self.lr_decay != "none":
            raise GancliError(_both("lr_decay", "lr"))


LR_DECAYS = ("none", "linear")
ON_NONFINITE = ("stop", "rollback")
ON_COLLAPSE = ("continue", "stop")
PRECISIONS = ("auto", "fp32", "bf16")
FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
# The settings a run records beside its components (everything but the names and options).
SETTINGS = ("conditional", "ema", "pack", "steps", "batch_size", "z_dim", "lr", "lr_decay", "beta1", "beta2", "seed",
            "device", "sample_every", "checkpoint_every", "log_every", "keep_checkpoints", "on_nonfinite",
            "augment_p", "ada_target", "ada_kimg", "schedule", "precision", "compile", "recipe",
            "diagnostics_every", "on_collapse", "d_lr_scale")
# Each option table belongs to the component its field names: a layer naming another one drops the lower layers'.
OPTION_OWNERS = {"arch_opt": "arch", "loss_opt": "loss", "lipschitz_opt": "lipschitz", "data_opt": "data",
                 "g_reg_opt": "g_reg", "augment_opt": "augment", "log_opt": "log", "diagnostics_opt": "diagnostics"}
TABLES = (*OPTION_OWNERS, "schedule")  # fields of key = value tables, merged key by key across layers
_UNSET = object()  # a field no layer has set yet


def train_values(flags: dict, config_file: str | None, registry) -> dict:
    """What a new `gancli train` run was asked for: the recipe's values (if the flags or the --config file name
    one) < the --config file's < the flags', merged by :func:`merge_layers`; ``registry.recipes`` has the recipes.
    A resumed run never comes here: its run.json already holds the values, the recipe's included."""
    values = merge_layers(config_from_toml(config_file) if config_file else {}, flags)
    if not values.get("recipe"):
        return values
    recipe = registry.recipes.get(values["recipe"])
    return merge_layers(recipe.values(values.get("data"), registry), values)


def merge_layers(*layers: dict) -> dict:
    """TrainConfig values of several layers, lowest first: a later layer's value wins, and option tables (``{"k":
    v}`` or the CLI's ``["k=v"]``) merge key by key, so ``--arch-opt width=64`` changes one option of a recipe's.
    A layer that names another component (``--arch resnet``) drops the options lower layers gave the one it
    replaces, which it would not know what to do with; likewise a schedule replaces the settings it moves, and a
    setting a schedule of it (see :func:`_drop_replaced`)."""
    merged = {}
    for layer in layers:
        _drop_replaced(merged, layer)
        for table, owner in OPTION_OWNERS.items():
            if owner in layer and _component(owner, layer[owner]) != _component(owner, merged.get(owner, _UNSET)):
                merged.pop(table, None)
        for name, value in layer.items():
            if name in TABLES and name in merged:
                value = {**_table(merged[name]), **_table(value)}
            merged[name] = value
    return merged


def _drop_replaced(merged: dict, layer: dict) -> None:
    """``--schedule lr=...`` replaces ``--lr`` and ``--lr-decay`` (and so on, see schedules.TARGETS): a layer that
    gives a schedule drops the settings it replaces from the layers below, one that gives such a setting drops
    the schedule below, and one that gives both is refused, since only one of them could be used."""
    for name in _schedule_table(layer.get("schedule")):
        target = TARGETS.get(name)  # an unknown name is refused when the schedule is read
        for setting in target.replaces if target else ():
            if setting in layer:
                raise GancliError(_both(setting, name))
            merged.pop(setting, None)
    replaced = {name for name, target in TARGETS.items() if any(setting in layer for setting in target.replaces)}
    below = _schedule_table(merged.get("schedule"))
    if replaced & set(below):
        merged["schedule"] = {name: text for name, text in below.items() if name not in replaced}


def _schedule_table(value) -> dict:
    """A layer's schedule table as a dict ({} when absent or malformed: build_config refuses malformed ones)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) and "=" in v for v in value):
        return parse_pairs(value)
    return {}


def _both(setting: str, schedule: str) -> str:
    return (f"--{setting.replace('_', '-')} and --schedule {schedule.replace('_', '-')}=... both set "
            f"{TARGETS[schedule].what}: give one")


def _component(owner: str, value):
    """What a component field names, for comparing layers (unset: the default; a dataset without its path)."""
    if value is _UNSET:
        spec = FIELDS[owner]
        value = spec.default if spec.default_factory is dataclasses.MISSING else spec.default_factory()
    if owner == "data" and isinstance(value, str):
        return value.partition(":")[0]
    if owner == "augment" and isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return list(value) if isinstance(value, (list, tuple)) else value


def _table(value) -> dict:
    return parse_pairs(value) if isinstance(value, (list, tuple)) else dict(value)


def read_toml(path, what: str) -> dict:
    """The top-level table of a TOML file; a missing or unreadable one is one line naming ``what`` it is."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise GancliError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GancliError(f"{what} {path} is not valid TOML: {exc}") from None


def config_from_toml(path: str) -> dict:
    """Read a TOML file of TrainConfig keys (dashes or underscores); unknown keys are an error."""
    return config_values(read_toml(path, "config file"), f"config file {path}")


def config_values(raw: dict, where: str) -> dict:
    """TrainConfig values from a TOML table of its keys, dashes or underscores (a --config file's, a recipe's
    flags); an unknown key is an error that names ``where``."""
    values = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            raise GancliError(f"{where}: unknown key {key!r}{did_you_mean(name, FIELDS)}")
        if name in TABLES:
            if not isinstance(value, dict):
                raise GancliError(f"{where}: {key} must be a table of option = value")
            value = {k.replace("-", "_"): v for k, v in value.items()}
        elif name in ("lipschitz", "g_reg", "log") and isinstance(value, str):
            value = [value]
        elif name == "augment" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value) or "none"
        values[name] = value
    return values


def _check_open_typed(name: str, value) -> None:
    """Fields whose default (None or a table) says nothing of their type: names, counts and option tables."""
    if name == "lipschitz" and value is not None:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise GancliError(f"lipschitz must be an enforcer name or a list of names, got {value!r}")
    elif name == "g_reg":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise GancliError(f"g_reg must be a generator regularizer name or a list of names, got {value!r}")
    elif name == "log":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise GancliError(f"log must be a logger name or a list of names, got {value!r}")
    elif name == "n_critic" and value is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GancliError(f"n_critic must be a whole number, got {value!r}")
    elif name == "schedule" and isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, str) or "=" not in item:
                raise GancliError(f"--schedule {item!r} must look like NAME={GRAMMAR} (e.g. lr=2e-4:5e-5)")
    elif name in TABLES:
        pairs = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        if not isinstance(value, dict) and not pairs:
            raise GancliError(f"{name} must be a table of option = value, got {value!r}")


def build_config(values: dict) -> TrainConfig:
    """A checked TrainConfig from plain values (a TOML file's or the CLI's)."""
    for name, value in values.items():
        if name == "augment_p" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = repr(value)  # a number from a TOML file: the same as --augment-p NUMBER
        _check_open_typed(name, value)
        if name == "log":
            value = list(value)  # the CLI's repeated --log arrives as a tuple
        default = FIELDS[name].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise GancliError(f"{name} must be true or false, got {value!r}")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise GancliError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise GancliError(f"{name} must be a finite number, got {value!r}")
            if isinstance(default, int) and value != int(value):
                raise GancliError(f"{name} must be a whole number, got {value!r}")
            value = type(default)(value)
        if isinstance(default, str) and not isinstance(value, str):
            raise GancliError(f"{name} must be a string, got {value!r}")
        values[name] = value
    config = TrainConfig(**values)
    config.schedule = resolve_schedules(_table(config.schedule), config.steps)  # checked, steps filled in
    config.check()
    return config
