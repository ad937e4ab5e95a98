"""A second judge for docs/fashion.md, one that shares nothing with the runs it measures.

    python bench/fashion_judge.py          train the judge (once), measure the snapshots not measured yet, write the page

gancli's fashion-mnist classifier, the judge of docs/fashion.md, is a ConvNet trained on the train split: the
images the generators trained on. This judge is another kind of network (an MLP on pixels) trained on the
test split only, with its own seed, and its FD compares generated images with the train split, which it never
saw (the floor: two halves of the train split). It measures the snapshots bench/equal_time.py left in
runs/bench-equal-time/fashion (RUN-5min, RUN-30min) with `gancli evaluate --extractor`, and writes
docs/fashion-judge.json and .md beside the first judge's figures from docs/fashion.json.
"""

from __future__ import annotations

import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
from equal_time import WORK, gancli_json, load, slug  # noqa: E402  (the bench whose snapshots this judges)

SNAPSHOTS = os.path.join(ROOT, WORK, "fashion")
JUDGE = os.path.join(ROOT, "runs", "bench-fashion-judge", "mlp-test-split.pt")
RESULTS = os.path.join(ROOT, "docs", "fashion-judge.json")
SEED, EPOCHS, HIDDEN = 7, 15, 256


def train_judge() -> float:
    """An MLP 784-512-256-10 on the test split (9,000 to train, 1,000 to score it); saved as TorchScript
    giving the 256-d hidden layer. Returns its accuracy on the 1,000 it did not train on."""
    import torch
    from torch import nn

    from gancli.plugins import get_registry

    torch.manual_seed(SEED)
    bundle = get_registry().get("dataset", "fashion-mnist").cls(split="test").load()
    order = torch.randperm(len(bundle.x))
    x, y = bundle.x[order].flatten(1), bundle.labels[order]
    body = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, HIDDEN), nn.ReLU())
    model = nn.Sequential(body, nn.Linear(HIDDEN, 10))
    optimiser = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(EPOCHS):
        model.train()
        for idx in torch.randperm(9000).split(128):
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        accuracy = float((model(x[9000:]).argmax(1) == y[9000:]).float().mean())
    features = nn.Sequential(nn.Flatten(), body).eval()
    os.makedirs(os.path.dirname(JUDGE), exist_ok=True)
    torch.jit.script(features).save(JUDGE)
    return accuracy


def fid(target: str) -> dict:
    result = gancli_json(["evaluate", target, "--extractor", JUDGE, "--data", "fashion-mnist",
                          "--data-opt", "split=train", "--metrics", "fid", "--no-record", "--json"])
    return {"fid": result["values"]["fid"], "floor": result["floors"]["fid"], "step": result["generator"]["step"]}


def main() -> None:
    os.chdir(ROOT)
    results = json.load(open(RESULTS)) if os.path.isfile(RESULTS) else {}
    if not os.path.isfile(JUDGE) or "judge_accuracy" not in results:
        results = {"judge_accuracy": train_judge(), "snapshots": {}}
    first = load("fashion")
    for path in sorted(glob.glob(os.path.join(SNAPSHOTS, "*-s[0-9]*-*min"))):
        run, minutes = os.path.basename(path).rsplit("-", 1)
        name, seed = run.rsplit("-s", 1)
        entry = next((e for e in first.values() if e["seed"] == int(seed) and slug(e["name"]) == name), None)
        key = f"{entry['name']}/seed{seed}/{minutes}" if entry else None
        if entry is None or minutes[:-3] not in entry["milestones"] or key in results["snapshots"]:
            continue
        results["snapshots"][key] = figures = fid(path)
        print(f"{key}: FD {figures['fid']:.3g} (floor {figures['floor']:.3g})", file=sys.stderr, flush=True)
        with open(RESULTS, "w") as fh:  # each snapshot saved as it is measured
            json.dump(results, fh, indent=1)
    render(results, first)


def render(results: dict, first: dict) -> None:
    """The page: this judge's figures beside the first judge's, read from docs/fashion.json."""
    lines = ["# Fashion-MNIST: a second, independent judge", "", __doc__.split("\n\n")[2].strip(), "",
             f"The judge's accuracy on 1,000 test images it did not train on: {results['judge_accuracy']:.1%}.",
             "Written by `python bench/fashion_judge.py`. The floors differ (0.119 for the first judge, 5,000 test "
             "images against 5,000; this one, halves of the train split), so compare the ratios.", "",
             "| contestant | seed | snapshot | step | FD, this judge (x floor) | FD, gancli's classifier (x floor) |",
             "|---|---:|---|---:|---:|---:|"]
    for key, f in results["snapshots"].items():
        name, seed, minutes = key.split("/")
        other = first[f"{name}/{seed}"]["milestones"][minutes[:-3]]
        other_fid, other_floor = other["values"]["fid"], other["floors"]["fid"]
        lines.append(f"| {name} | {seed[4:]} | {minutes} | {f['step']:,} | {f['fid']:.3g} ({f['fid'] / f['floor']:.1f}x) "
                     f"| {other_fid:.3g} ({other_fid / other_floor:.1f}x) |")
    with open(os.path.join(ROOT, "docs", "fashion-judge.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote docs/fashion-judge.md", file=sys.stderr)


if __name__ == "__main__":
    main()
