"""Small data and clean pixels: train the augmentation and upsampling comparisons, evaluate them, write
docs/augment.md (and sample grids under docs/images/augment/).

1. Fréchet distance with and without adaptive differentiable augmentation (ADA), at the same number of steps
   (--steps, 24,000 by default), on the full built-in digits and on a class-balanced 10% of them (--data-opt
   fraction=0.1). Every run is scored against the *full* digits (--data-opt fraction=1), with gancli's digits
   classifier features, so the 10% runs are judged on how well they generalise beyond the 179 images they saw.
   The 10% runs are also scored at every kept checkpoint, and the time a step with ADA costs is measured
   against one without, side by side.
2. The checkerboard measure of a transposed-convolution generator against a resize-convolution one
   (--arch-opt upsample=nearest), same recipe, 3,000 steps, beside the real images' floor.

Every figure comes from the `gancli` command line (train, evaluate --json, sample), and the commands are written
under the tables. Training runs use one thread each (OMP_NUM_THREADS=1), one at a time. A run that exists with
fewer steps is resumed up to the budget (resuming is exact, so this equals training from scratch).

    python bench/augment.py                  train or resume what is missing, evaluate, write docs
    python bench/augment.py --steps 6000     a shorter budget for the FD comparison
    python bench/augment.py --retrain        train every run again
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quality import ROOT, fmt, gancli  # noqa: E402  (bench/ is a folder of scripts, not a package)

# The recipe every run shares: DCGAN + BCE on 28x28 digits, narrower and smaller batches than the default so
# that a run fits on one CPU thread.
RECIPE = ["train", "--arch", "dcgan", "--arch-opt", "width=32", "--loss", "bce", "--batch-size", "64", "--seed", "0"]
BASE = RECIPE + ["--sample-every", "3000", "--checkpoint-every", "3000", "--keep-checkpoints", "10"]
ADA = ["--augment", "color,translation,cutout", "--augment-p", "auto"]
SUBSET = ["--data-opt", "fraction=0.1"]
CHECKERBOARD_STEPS = 3000

# name -> (extra flags, what it is); the first four make the FD comparison, the last two the checkerboard one
RUNS = {
    "full": ([], "full digits, no augmentation"),
    "full-ada": (ADA, "full digits, augmentation with adaptive p (ADA)"),
    "tenth": (SUBSET, "10% of the digits, no augmentation"),
    "tenth-ada": (SUBSET + ADA, "10% of the digits, augmentation with adaptive p (ADA)"),
    "transposed": ([], "transposed-convolution generator (the default)"),
    "nearest": (["--arch-opt", "upsample=nearest"], "resize-convolution generator (nearest)"),
}
COMPARISONS = [("full digits (1,797 images)", "full", "full-ada"),
               ("10% of the digits (179 images)", "tenth", "tenth-ada")]
EVALUATE = ["--metrics", "fid,checkerboard", "--data-opt", "fraction=1", "--no-record", "--json"]
GOAL = 0.30  # at least 30% lower FD with augmentation on the 10% subset


def budget(name: str, fd_steps: int) -> int:
    return CHECKERBOARD_STEPS if name in ("transposed", "nearest") else fd_steps


def trained_steps(run_dir: str) -> int:
    if not os.path.isfile(os.path.join(run_dir, "generator.safetensors")):
        return 0
    return last_record(run_dir)["step"]


def train(name: str, steps: int, work: str, log: list, retrain: bool) -> str:
    run_dir = os.path.join(work, name)
    done = 0 if retrain else trained_steps(run_dir)
    if done > steps:
        sys.exit(f"{run_dir} has {done} steps, more than the {steps} asked for; pass --retrain or another --work")
    if done == 0:
        shutil.rmtree(run_dir, ignore_errors=True)
        gancli(BASE + ["--steps", str(steps)] + RUNS[name][0] + ["--out", run_dir], log, threads=1)
    elif done < steps:
        gancli(["train", "--resume", run_dir, "--steps", str(steps)], log, threads=1)
    return run_dir


def last_record(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "metrics.jsonl")) as fh:
        return json.loads(fh.read().strip().splitlines()[-1])


def shown_command(name: str, steps: int) -> str:
    return "gancli " + " ".join(BASE + ["--steps", str(steps)] + RUNS[name][0])


def change(gain: float) -> str:
    """A relative FD reduction in words."""
    return f"{gain:.0%} lower FD" if gain >= 0 else f"{-gain:.0%} higher FD"


def fd_section(results: dict, floor: float, steps: int, cost: float) -> list:
    lines = ["## Fréchet distance with and without augmentation", "",
             f"Same recipe and the same {steps:,} steps for every run, so the same training time but for the "
             f"augmentation's own cost: measured side by side (500-step runs, alternated), a step with ADA takes "
             f"{cost:.2f}x the time of a step without. The times in the tables are wall times that also carry the "
             "load of other processes on this shared machine, which varied between runs. FD against the full "
             "digits with gancli's digits-classifier features (lower is better; the floor, real half against real "
             f"half, is {fmt(floor)}).", ""]
    gains = {}
    for title, plain, augmented in COMPARISONS:
        base, ours = results[plain], results[augmented]
        gains[plain] = (base["fid"] - ours["fid"]) / base["fid"]
        lines += [f"### {title}", "", "| run | FD | vs. no augmentation | final p | training time |",
                  "|---|---:|---:|---:|---:|",
                  f"| {RUNS[plain][1]} | {fmt(base['fid'])} |  |  | {base['minutes']:.1f} min |",
                  f"| {RUNS[augmented][1]} | {fmt(ours['fid'])} | {-gains[plain]:+.0%} | {ours['augment_p']:.2f} | "
                  f"{ours['minutes']:.1f} min |", ""]
    lines += [f"Goal: at least {GOAL:.0%} lower FD with augmentation on the 10% subset, and no worse on the full set.",
              "",
              f"- 10% subset: {change(gains['tenth'])} ({'met' if gains['tenth'] >= GOAL else 'not met'}).",
              f"- Full set: {change(gains['full'])} ({'no worse' if gains['full'] >= 0 else 'worse'}).", ""]
    return lines


def curve_section(curves: dict, results: dict) -> list:
    """FD of the 10% runs at every kept checkpoint: how the gap between them grows with training."""
    plain, augmented = curves["tenth"], curves["tenth-ada"]
    lines = ["### Over training, 10% of the digits", "",
             "Each kept checkpoint of the two 10% runs, scored the same way. Without augmentation the discriminator "
             "soon tells the 179 images from generated ones almost perfectly (its loss ends at "
             f"{results['tenth']['d_loss']:.3f}) and gives the generator little to learn from; with ADA it is held "
             f"near the overfitting target (loss {results['tenth-ada']['d_loss']:.3f} at the end, p "
             f"{results['tenth-ada']['augment_p']:.2f}).", "",
             "| step | FD, no augmentation | FD, ADA | vs. no augmentation |", "|---:|---:|---:|---:|"]
    for step in sorted(set(plain) & set(augmented)):
        lines.append(f"| {step:,} | {fmt(plain[step])} | {fmt(augmented[step])} | "
                     f"{(augmented[step] - plain[step]) / plain[step]:+.0%} |")
    return lines + [""]


def grid(run_dir: str, name: str, log: list) -> str:
    relative = os.path.join("docs", "images", "augment", f"{name}.png")
    gancli(["sample", run_dir, "-n", "64", "--seed", "0", "-o", relative], log)
    return os.path.relpath(relative, "docs")


def checkerboard_section(results: dict, floor: float, grids: dict) -> list:
    lines = ["## Checkerboard: transposed against resize convolutions", "",
             "The share of spectral energy within one frequency of (N/2, 0), (0, N/2) and (N/2, N/2), where "
             "stride-2 upsampling aliases the low-resolution spectrum ([evaluate.md](evaluate.md#checkerboard)); "
             f"real digits: {fmt(floor)}. Same recipe on the full digits, {CHECKERBOARD_STEPS:,} steps, "
             "no augmentation.", "",
             "| generator | checkerboard | × real | FD | training time |", "|---|---:|---:|---:|---:|"]
    for name, label in (("transposed", "transposed convolutions (`upsample=transposed`, the default)"),
                        ("nearest", "resize convolutions (`upsample=nearest`)")):
        r = results[name]
        lines.append(f"| {label} | {fmt(r['checkerboard'])} | {r['checkerboard'] / floor:.1f} | {fmt(r['fid'])} | "
                     f"{r['minutes']:.1f} min |")
    lines += ["", "| transposed | resize (nearest) |", "|:---:|:---:|",
              f"| ![transposed]({grids['transposed']}) | ![nearest]({grids['nearest']}) |", ""]
    return lines


def augmentation_cost(work: str, log: list, steps: int = 500, rounds: int = 2) -> float:
    """Seconds per step with ADA over seconds per step without: short 10% runs, alternated, one thread each."""
    seconds = {"tenth": 0.0, "tenth-ada": 0.0}
    for _ in range(rounds):
        for name in seconds:
            out = os.path.join(work, "timing", name)
            shutil.rmtree(out, ignore_errors=True)
            gancli(RECIPE + ["--steps", str(steps), "--sample-every", "100000", "--checkpoint-every", "100000"]
                   + RUNS[name][0] + ["--out", out], log, threads=1)
            seconds[name] += last_record(out)["elapsed_s"]
    shutil.rmtree(os.path.join(work, "timing"))
    return seconds["tenth-ada"] / seconds["tenth"]


def fd_curve(run_dir: str, log: list) -> dict:
    """{step: FD} over the run's kept checkpoints."""
    evaluations = json.loads(gancli(["evaluate", run_dir, "--all-checkpoints", *EVALUATE], log))["evaluations"]
    return {e["generator"]["step"]: e["values"]["fid"] for e in evaluations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=os.path.join(ROOT, "runs", "bench-augment"), help="folder for trained runs")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "augment.md"))
    parser.add_argument("--steps", type=int, default=24000, help="training steps of the FD comparison's runs")
    parser.add_argument("--retrain", action="store_true", help="train every run again")
    parser.add_argument("--note", help="a paragraph printed under the commands (how the runs were trained, say)")
    args = parser.parse_args()

    log: list = []
    work = os.path.abspath(args.work)
    runs = {name: train(name, budget(name, args.steps), work, log, args.retrain) for name in RUNS}
    results, floors = {}, None
    for name, run_dir in runs.items():
        evaluation = json.loads(gancli(["evaluate", run_dir, *EVALUATE], log))
        record = last_record(run_dir)
        results[name] = {**evaluation["values"], "minutes": record["elapsed_s"] / 60,
                         "augment_p": record.get("augment_p"), "d_loss": record["d_loss"]}
        floors = evaluation["floors"]
    curves = {name: fd_curve(runs[name], log) for name in ("tenth", "tenth-ada")}
    cost = augmentation_cost(work, log)
    os.makedirs(os.path.join(ROOT, "docs", "images", "augment"), exist_ok=True)
    grids = {name: grid(runs[name], name, log) for name in ("transposed", "nearest", "tenth", "tenth-ada")}

    header = ["# Small data and clean pixels", "",
              f"Written by `python bench/augment.py` on {datetime.date.today()} ({platform.machine()}, "
              f"{os.cpu_count()} CPU cores, shared; no GPU; one thread per run). How to use the features: "
              "[training.md](training.md#augmentation-for-small-data) and "
              "[components.md](components.md#upsampling-transposed-or-resize-convolutions).", ""]
    body = fd_section(results, floors["fid"], args.steps, cost) + curve_section(curves, results)
    body += [f"Samples after {args.steps:,} steps on 10% of the digits, without and with ADA:", "",
             "| no augmentation | ADA (color,translation,cutout) |", "|:---:|:---:|",
             f"| ![tenth]({grids['tenth']}) | ![tenth, ADA]({grids['tenth-ada']}) |", ""]
    body += checkerboard_section(results, floors["checkerboard"], grids)
    commands = ["## Commands that produced these figures", "",
                "A run trained earlier with fewer steps is resumed to the budget (`gancli train --resume RUN "
                "--steps N`), which continues exactly where it stopped.", "", "```"]
    commands += [f"{shown}    # {seconds:.0f} s" for shown, seconds in log]
    commands += ["```", ""] + ([args.note, ""] if args.note else []) + ["Recipes:", ""]
    commands += [f"- {RUNS[name][1]}: `{shown_command(name, budget(name, args.steps))}`" for name in RUNS]
    with open(args.out, "w") as fh:
        fh.write("\n".join(header + body + commands) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
