"""gancli classifier train from Python: gancli's attribute classifier of a labelled dataset (what directions and
edits judge with), trained once and cached."""

from __future__ import annotations

import shutil
from dataclasses import replace

from ..errors import GancliError


def train_classifier(data: str, data_options=None, steps: int | None = None, members: int | None = None,
                     balance: bool | None = None, balance_max_weight: float | None = None,
                     robust: bool | None = None, output: str | None = None, progress=None) -> dict:
    """Train (or find in the cache) the attribute classifier of ``data`` ("faces", "celeba:PATH"), as ``gancli
    classifier train --json`` reports it: {"file", "cache", "trained_now", "accuracy", "accuracy_per_name",
    "n_holdout", "members", "balanced", "balance", "robust"}. ``output``: also copy it to this .safetensors file;
    ``progress(step, total)``: called while training. Unset settings take the classifier's defaults."""
    from ..classifiers import attribute_classifier
    from ..classifiers.attributes import ATTRIBUTE_SETTINGS
    from ..engine.plan import data_choice, parse_or_dict
    from .registry import registry_for_command

    if output and not str(output).lower().endswith(".safetensors"):
        raise GancliError(f"output {output} must end in .safetensors")
    if steps is not None and steps < 1:
        raise GancliError(f"--steps must be at least 1, got {steps}")
    if members is not None and members < 1:
        raise GancliError(f"--members must be at least 1, got {members}")
    if balance_max_weight is not None and not balance_max_weight > 1:
        raise GancliError(f"--balance-max-weight must be above 1 (the mean weight), got {balance_max_weight:g}")
    registry = registry_for_command()
    choice = data_choice(registry, data, parse_or_dict(data_options or {}))
    overrides = {"members": members, "max_steps": steps, "balance": balance, "balance_max_weight": balance_max_weight,
                 "robust": robust}
    settings = replace(ATTRIBUTE_SETTINGS, **{k: v for k, v in overrides.items() if v is not None})
    clf, path, trained = attribute_classifier(registry, choice.entry.name, choice.options, settings=settings,
                                              progress=progress)
    if output:
        try:
            shutil.copyfile(path, output)
        except OSError as exc:
            raise GancliError(f"cannot write {output}: {exc.strerror or exc}") from None
    return {"file": str(output or path), "cache": path, "trained_now": trained, "accuracy": clf.accuracy,
            "accuracy_per_name": clf.info.get("accuracy_per_name", {}), "n_holdout": clf.info.get("n_holdout"),
            "members": clf.info.get("members", 1), "balanced": bool(clf.info.get("balanced")),
            "balance": clf.info.get("balance"), "robust": bool(clf.info.get("settings", {}).get("robust"))}
