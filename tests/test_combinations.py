"""Every loss x enforcer combination the planner allows trains on digits and grid; refused ones say why."""

import itertools

import pytest

from gancli.engine.config import TrainConfig
from gancli.engine.plan import make_plan
from gancli.errors import GancliError
from gancli.plugins import build_registry
from helpers import run

REGISTRY = build_registry(third_party=False)
LOSSES = [e.name for e in REGISTRY.entries("loss")]
ENFORCERS = [e.name for e in REGISTRY.entries("lipschitz")]
SETS = [["none"]] + [[name] for name in ENFORCERS] + [list(p) for p in itertools.combinations(ENFORCERS, 2)]


def verdict(loss, enforcers):
    try:
        make_plan(TrainConfig(loss=loss, lipschitz=enforcers), REGISTRY)
        return None
    except GancliError as exc:
        return str(exc)


CASES = [(loss, enforcers) for loss in LOSSES for enforcers in SETS]
ALLOWED = [case for case in CASES if verdict(*case) is None]
REFUSED = [case for case in CASES if verdict(*case) is not None]


def test_the_matrix_has_both_kinds():
    assert len(ALLOWED) > 20 and len(REFUSED) > 5
    assert ("wgan", ["none"]) in ALLOWED  # an explicit "none" is the user's informed choice
    assert ("wgan", ["r1"]) in REFUSED and ("bce", ["spectral-norm", "weight-clip"]) in REFUSED


@pytest.mark.parametrize("loss, enforcers", REFUSED, ids=lambda v: "+".join(v) if isinstance(v, list) else v)
def test_refused_combinations_give_a_reason(loss, enforcers):
    reason = verdict(loss, enforcers)
    assert ("do not combine:" in reason and len(reason.split("do not combine:")[1].strip()) > 10) or \
        "must be kept 1-Lipschitz" in reason


@pytest.mark.parametrize("data", ["digits", "grid"])
@pytest.mark.parametrize("loss, enforcers", ALLOWED, ids=lambda v: "+".join(v) if isinstance(v, list) else v)
def test_allowed_combinations_train(tmp_path, data, loss, enforcers):
    flags = [flag for name in enforcers for flag in ("--lipschitz", name)]
    shape = ["--arch", "dcgan", "--data-opt", "size=16", "--arch-opt", "d_norm=none"] if data == "digits" else \
        ["--arch", "mlp", "--data", "grid", "--data-opt", "n=64"]
    result = run("train", "--loss", loss, *flags, *shape, "--arch-opt", "width=4", "--batch-size", 8,
                 "--steps", 2, "--n-critic", 1, "--log-every", 1, "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    import json

    records = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(abs(r["d_loss"]) < 1e6 and abs(r["g_loss"]) < 1e6 for r in records)
