"""Attribute spellings and direction names.

Users type short or foreign spellings (``smile``, CelebA's ``Smiling``, ``glasses``); the classifier knows
one spelling per attribute. Direction names are built from the classifier's spellings::

    smiling                              interfacegan's direction for smiling
    smiling-cond-mouth_open              ... with the mouth_open direction projected out ("+" joins several)
    smiling-gradient                     classifier-gradient's global direction
    smiling-gradient-cond-mouth_open     ... penalising a change of mouth_open (-cond-others: every other one)
    sefa-0, pca-3                        unsupervised directions, strongest first

and looked up with the same aliases, so ``--direction smile-cond-mouth`` finds ``smiling-cond-mouth_open``.
A direction of W or W+ carries its space after an ``@`` (``smiling@w``, ``sefa-0@w+``); Z directions carry none.

A bare attribute (``--direction smile``) names the attribute's best edit when the run records what its edits
measured at (``measured``: success and drift by a judge): the lowest drift among those turning at least
``GOOD_SUCCESS`` of the samples, else the highest success minus drift. The candidates are the saved directions
and the measured per-latent editors (``smiling-gradient-cond-others/per-latent``: a finder's editor with the
options it was fitted with, see gancli.directions.fit), which walk each latent on its own path.
"""

from __future__ import annotations

import re

from ..errors import GancliError, did_you_mean

# Spellings of one concept, normalised (lower case, "_" for "-" and spaces); faces' names and CelebA's.
SYNONYMS = (
    ("smiling", "smile", "smiles", "happy"),
    ("mouth_open", "mouth_slightly_open", "open_mouth", "mouth", "open"),
    ("eyeglasses", "glasses", "spectacles"),
    ("hat", "wearing_hat", "hats"),
    ("male", "man"),
    ("young", "youth"),
    ("blond_hair", "blond", "blonde"),
)
CONDITION = "-cond-"
SPACE_MARK = "@"
PER_LATENT = "/per-latent"
GOOD_SUCCESS = 0.9
GRADIENT = "-gradient"
OTHERS = "others"
_NAME = re.compile(r"^(?P<attr>.+?)(?P<gradient>-gradient)?(?:-cond-(?P<cond>.+))?$")


def normalise(word: str) -> str:
    return re.sub(r"[-\s]+", "_", word.strip().lower())


def resolve_attribute(word: str, names) -> str:
    """The classifier's spelling (one of ``names``) of the attribute the user typed as ``word``."""
    names = list(names)
    by_normal = {normalise(name): name for name in names}
    wanted = normalise(word)
    if wanted in by_normal:
        return by_normal[wanted]
    for group in SYNONYMS:
        if wanted in group:
            for spelling in group:
                if spelling in by_normal:
                    return by_normal[spelling]
    raise GancliError(f"the attribute classifier does not know attribute {word!r}"
                      f"{did_you_mean(wanted, by_normal)}; it knows: {', '.join(names)}")


def direction_name(attribute: str, condition_on=(), gradient: bool = False) -> str:
    """The name a supervised finder gives its direction (``condition_on`` may be ``("others",)``)."""
    name = attribute + (GRADIENT if gradient else "")
    return name + (CONDITION + "+".join(condition_on) if condition_on else "")


def editor_name(direction: str) -> str:
    """The name of the per-latent editor measured beside the direction ``direction`` (the same fit)."""
    return direction + PER_LATENT


def in_space(name: str, space: str) -> str:
    """A finder's direction name as saved for ``space``: ``smiling@w``; Z names stay as they are."""
    return name if space == "z" else f"{name}{SPACE_MARK}{space}"


def best_measured(attribute: str, records: dict, available) -> str | None:
    """The direction of ``attribute`` that measured best (see the module docstring), or None if none measured."""
    measured = [(name, records[name]["measured"]) for name in available
                if records.get(name, {}).get("attribute") == attribute and records[name].get("measured")]
    if not measured:
        return None
    good = [(m["drift"], name) for name, m in measured if m["success"] >= GOOD_SUCCESS]
    if good:
        return min(good)[1]
    return max((m["success"] - m["drift"], name) for name, m in measured)[1]


def resolve_direction(word: str, available, attributes, records: dict | None = None) -> str:
    """The stored name (one of ``available``) that ``word`` means; aliases resolve through ``attributes``, and a
    bare attribute through what ``records`` say its directions measured at."""
    available = list(available)
    if word in available:
        return word
    base, mark, space = word.strip().partition(SPACE_MARK)
    match = _NAME.match(base)
    if match and attributes and not mark and not match["gradient"] and match["cond"] is None:
        try:
            best = best_measured(resolve_attribute(match["attr"], attributes), records or {}, available)
        except GancliError:
            best = None
        if best:
            return best
    if match and attributes:
        try:
            attr = resolve_attribute(match["attr"], attributes)
            cond = match["cond"]
            conditions = () if cond is None else (
                (OTHERS,) if normalise(cond) == OTHERS else
                tuple(resolve_attribute(part, attributes) for part in cond.split("+")))
            candidate = direction_name(attr, conditions, gradient=bool(match["gradient"])) + mark + space
            if candidate in available:
                return candidate
        except GancliError:
            pass
    raise GancliError(f"unknown direction {word!r}{did_you_mean(word, available)}; known directions: "
                      f"{', '.join(available)}")
