"""Evaluation results kept with a run (RUN/evaluations.jsonl, one JSON object per line), for `gancli report`."""

from __future__ import annotations

import json
import math
import os

EVALUATIONS = "evaluations.jsonl"


def json_ready(value):
    """``value`` with NaN and infinities turned into None, so the JSON written is valid JSON (null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def append_record(run_dir: str, result: dict) -> str:
    path = os.path.join(run_dir, EVALUATIONS)
    with open(path, "a") as fh:
        fh.write(json.dumps(json_ready(result)) + "\n")
    return path


def read_jsonl(path: str) -> list[dict]:
    """The JSON objects of a JSON-lines file; a torn last line (a run killed mid-write) is skipped."""
    if not os.path.isfile(path):
        return []
    records = []
    with open(path) as fh:
        for line in fh:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records
