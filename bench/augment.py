"""Small data and clean pixels: train the augmentation and upsampling comparisons, evaluate them, write
docs/augment.md (and sample grids under docs/images/augment/).

1. Fréchet distance with and without differentiable augmentation, at the same number of steps (and so about the
   same training time), on the full built-in digits and on a class-balanced 10% of them (--data-opt
   fraction=0.1). Every run is scored against the *full* digits (--data-opt fraction=1), with gancli's digits
   classifier features, so the 10% runs are judged on how well they generalise beyond the 179 images they saw.
2. The checkerboard measure of a transposed-convolution generator against a resize-convolution one
   (--arch-opt upsample=nearest), same recipe, beside the real images' floor.

Every figure comes from the `gancli` command line (train, evaluate --json, sample), and the commands are written
under the tables. Training runs use one thread each (OMP_NUM_THREADS=1), one at a time.

    python bench/augment.py                  train what is missing, evaluate, write docs
    python bench/augment.py --retrain        train every run again
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quality import ROOT, fmt, gancli  # noqa: E402  (bench/ is a folder of scripts, not a package)

# The recipe every run shares: DCGAN + BCE on 28x28 digits, narrower and smaller batches than the default so
# that a run fits in a few minutes on one CPU thread.
BASE = ["train", "--arch", "dcgan", "--arch-opt", "width=32", "--loss", "bce", "--batch-size", "64",
        "--steps", "3000", "--seed", "0", "--sample-every", "1000", "--checkpoint-every", "1000"]
AUGMENT = ["--augment", "color,translation,cutout"]
SUBSET = ["--data-opt", "fraction=0.1"]

# name -> (extra flags, what it is)
RUNS = {
    "full": ([], "full digits, no augmentation"),
    "full-ada": (AUGMENT + ["--augment-p", "auto"], "full digits, augmentation with adaptive p (ADA)"),
    "full-diffaug": (AUGMENT + ["--augment-p", "1"], "full digits, augmentation always on (DiffAugment, p = 1)"),
    "tenth": (SUBSET, "10% of the digits, no augmentation"),
    "tenth-ada": (SUBSET + AUGMENT + ["--augment-p", "auto"], "10% of the digits, adaptive p (ADA)"),
    "tenth-diffaug": (SUBSET + AUGMENT + ["--augment-p", "1"], "10% of the digits, p = 1 (DiffAugment)"),
    "full-nearest": (["--arch-opt", "upsample=nearest"], "full digits, resize-convolution generator (nearest)"),
}
COMPARISONS = [("full digits (1,797 images)", "full", ["full-ada", "full-diffaug"]),
               ("10% of the digits (179 images)", "tenth", ["tenth-ada", "tenth-diffaug"])]
EVALUATE = ["--metrics", "fid,checkerboard", "--data-opt", "fraction=1", "--no-record", "--json"]
GOAL = 0.30  # at least 30% lower FD with augmentation on the 10% subset


def train(name: str, work: str, log: list, retrain: bool) -> str:
    run_dir = os.path.join(work, name)
    if retrain or not os.path.isfile(os.path.join(run_dir, "generator.safetensors")):
        if os.path.isdir(run_dir):
            import shutil

            shutil.rmtree(run_dir)
        gancli(BASE + RUNS[name][0] + ["--out", run_dir], log, threads=1)
    return run_dir


def last_record(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "metrics.jsonl")) as fh:
        return json.loads(fh.read().strip().splitlines()[-1])


def shown_command(name: str) -> str:
    return "gancli " + " ".join(BASE + RUNS[name][0])


def change(gain: float) -> str:
    """A relative FD reduction in words."""
    return f"{gain:.0%} lower FD" if gain >= 0 else f"{-gain:.0%} higher FD"


def fd_section(results: dict, floor: float) -> list:
    lines = ["## Fréchet distance with and without augmentation", "",
             "Same recipe and step count for every run, so the same training time but for the augmentation's own "
             "cost (a few per cent); the times given per run also carry the load of other processes on this shared "
             "machine, which varied between runs. FD against the full digits with gancli's digits-classifier features "
             f"(lower is better; the floor, real half against real half, is {fmt(floor)}).", ""]
    verdicts = []
    for title, plain, augmented in COMPARISONS:
        lines += [f"### {title}", "", "| run | FD | vs. no augmentation | final p | training time |",
                  "|---|---:|---:|---:|---:|"]
        base = results[plain]["fid"]
        for name in [plain] + augmented:
            r = results[name]
            delta = "" if name == plain else f"{(r['fid'] - base) / base:+.0%}"
            p = "" if r["augment_p"] is None else f"{r['augment_p']:.2f}"
            lines.append(f"| {RUNS[name][1]} | {fmt(r['fid'])} | {delta} | {p} | {r['minutes']:.1f} min |")
        best = min(augmented, key=lambda n: results[n]["fid"])
        verdicts.append((title, plain, best, (base - results[best]["fid"]) / base))
        lines.append("")
    (_, _, full_best, full_gain), (_, _, tenth_best, tenth_gain) = verdicts
    tenth_ada = (results["tenth"]["fid"] - results["tenth-ada"]["fid"]) / results["tenth"]["fid"]
    full_ada = (results["full"]["fid"] - results["full-ada"]["fid"]) / results["full"]["fid"]
    lines += [f"Goal: at least {GOAL:.0%} lower FD with augmentation on the 10% subset, and no worse on the full set.",
              "",
              f"- 10% subset, adaptive p: {change(tenth_ada)} ({'met' if tenth_ada >= GOAL else 'not met'}); "
              f"best setting ({RUNS[tenth_best][1]}): {change(tenth_gain)} "
              f"({'met' if tenth_gain >= GOAL else 'not met'}).",
              f"- Full set, adaptive p: {change(full_ada)} ({'no worse' if full_ada >= 0 else 'worse'}); "
              f"best setting ({RUNS[full_best][1]}): {change(full_gain)} "
              f"({'no worse' if full_gain >= 0 else 'worse'}).", "",
              f"How much the small set hurt at this budget: without augmentation the 10% run's FD is "
              f"{fmt(results['tenth']['fid'])} against the full run's {fmt(results['full']['fid'])} "
              f"({results['tenth']['fid'] / results['full']['fid']:.2f}x). Adaptive p ended at "
              f"{results['tenth-ada']['augment_p']:.2f} on the 10% subset and {results['full-ada']['augment_p']:.2f} "
              "on the full set.", ""]
    return lines


def grid(run_dir: str, name: str, log: list) -> str:
    relative = os.path.join("docs", "images", "augment", f"{name}.png")
    gancli(["sample", run_dir, "-n", "64", "--seed", "0", "-o", relative], log)
    return os.path.relpath(relative, "docs")


def checkerboard_section(results: dict, floor: float, grids: dict) -> list:
    lines = ["## Checkerboard: transposed against resize convolutions", "",
             "The share of spectral energy within one frequency of (N/2, 0), (0, N/2) and (N/2, N/2), where "
             "stride-2 upsampling aliases the low-resolution spectrum ([evaluate.md](evaluate.md#checkerboard)); "
             f"real digits: {fmt(floor)}. Same recipe, 3,000 steps, no augmentation.", "",
             "| generator | checkerboard | × real | FD | training time |", "|---|---:|---:|---:|---:|"]
    for name, label in (("full", "transposed convolutions (`upsample=transposed`, the default)"),
                        ("full-nearest", "resize convolutions (`upsample=nearest`)")):
        r = results[name]
        lines.append(f"| {label} | {fmt(r['checkerboard'])} | {r['checkerboard'] / floor:.1f} | {fmt(r['fid'])} | "
                     f"{r['minutes']:.1f} min |")
    lines += ["", "| transposed | resize (nearest) |", "|:---:|:---:|",
              f"| ![transposed]({grids['full']}) | ![nearest]({grids['full-nearest']}) |", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=os.path.join(ROOT, "runs", "bench-augment"), help="folder for trained runs")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "augment.md"))
    parser.add_argument("--retrain", action="store_true", help="train every run again")
    args = parser.parse_args()

    log: list = []
    work = os.path.abspath(args.work)
    runs = {name: train(name, work, log, args.retrain) for name in RUNS}
    results, floors = {}, None
    for name, run_dir in runs.items():
        evaluation = json.loads(gancli(["evaluate", run_dir, *EVALUATE], log))
        record = last_record(run_dir)
        results[name] = {**evaluation["values"], "minutes": record["elapsed_s"] / 60,
                         "augment_p": record.get("augment_p")}
        floors = evaluation["floors"]
    os.makedirs(os.path.join(ROOT, "docs", "images", "augment"), exist_ok=True)
    grids = {name: grid(runs[name], name, log) for name in ("full", "full-nearest", "tenth", "tenth-diffaug")}

    header = ["# Small data and clean pixels", "",
              f"Written by `python bench/augment.py` on {datetime.date.today()} ({platform.machine()}, "
              f"{os.cpu_count()} CPU cores, shared; no GPU; one thread per run). How to use the features: "
              "[training.md](training.md#augmentation-for-small-data) and "
              "[components.md](components.md#upsampling-transposed-or-resize-convolutions).", ""]
    body = fd_section(results, floors["fid"])
    body += ["Samples after 3,000 steps on 10% of the digits, without and with augmentation (p = 1):", "",
             "| no augmentation | color,translation,cutout |", "|:---:|:---:|",
             f"| ![tenth]({grids['tenth']}) | ![tenth, augmented]({grids['tenth-diffaug']}) |", ""]
    body += checkerboard_section(results, floors["checkerboard"], grids)
    commands = ["## Commands that produced these figures", "", "```"]
    commands += [f"{shown}    # {seconds:.0f} s" for shown, seconds in log]
    commands += ["```", "", "Recipes:", ""]
    commands += [f"- {RUNS[name][1]}: `{shown_command(name)}`" for name in RUNS]
    with open(args.out, "w") as fh:
        fh.write("\n".join(header + body + commands) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
