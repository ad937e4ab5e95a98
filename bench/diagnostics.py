"""Training diagnostics on labelled runs, and their cost; writes docs/diagnostics-runs.md and its JSON.

**Labelled runs.** Each run below is built to fail in one named way or to succeed (RUNS: its label, the flags of
`gancli train`, its steps). The bench trains each with the default diagnostics and reads back the alarms it
fired (RUN/alarms.jsonl) and the signals it logged. The goal, per docs/diagnostics.md: every failing run flagged
with the right kind of alarm before it is visibly lost, that is within the first fifth of its steps, or (with
--evaluate) before its measured quality turns bad (the mode count of a mixture at or below half its modes, FD at
twice its best or more, from then on); and no alarm at all on a healthy run. With --evaluate each run keeps
CHECKPOINTS evenly spaced checkpoints, and each is evaluated (`gancli evaluate RUN --all-checkpoints`). Each run's
row is saved as soon as it is done, so a stopped bench loses only the runs under way.

**Cost.** `--cost` trains the default run (dcgan on the digits) side by side with diagnostics on and off, and a
second run with them off for the machine's noise, in one process, the order rotating from round to round, after
a warm-up round that is not counted. The loop is timed by the trainer's own clock (the last record's
elapsed_s, which holds the diagnostics' computations), medians over the rounds; the goal is at most 2% slower.
On a shared machine two identical runs differ by about as much, so the bench also times the diagnostics' own
computations (every call of Monitor.observe) as a share of the loop: a figure no neighbour's load can blur.

    OMP_NUM_THREADS=1 python bench/diagnostics.py --jobs 2 --evaluate  every labelled run, then the page
    OMP_NUM_THREADS=1 python bench/diagnostics.py --runs collapse-grid,healthy-grid --evaluate
    OMP_NUM_THREADS=1 python bench/diagnostics.py --cost --rounds 6 --cost-steps 300
    python bench/diagnostics.py --render                                rewrite the page from its JSON
    python bench/diagnostics.py --scale 0.01 --work /tmp/d --out /tmp/d/page.md    a quick check that it runs
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL_COST = 1.02  # diagnostics slow the training loop by at most 2%
EARLY = 0.2  # a failing run is flagged within this share of its steps (or before its quality turns bad)
CHECKPOINTS = 20  # with --evaluate: checkpoints kept and evaluated per run

# name -> (label: the alarm kind expected, or "healthy"; gancli train flags; steps)
RUNS = {
    "collapse-grid": ("mode-collapse", ["--arch", "mlp", "--data", "grid", "--loss", "bce-minimax", "--z-dim", "2"],
                      10000),
    "collapse-course-digits": ("mode-collapse", ["--arch-opt", "layout=course"], 2000),  # collapsed to one image
    "vanishing-minimax-dlr10": ("vanishing-gradients", ["--loss", "bce-minimax", "--d-lr-scale", "10"], 2000),
    "overfit-digits-10pct": ("overfitting", ["--data-opt", "fraction=0.1", "--augment", "none"], 10000),
    "healthy-default": ("healthy", [], 2000),
    "healthy-grid": ("healthy", ["--recipe", "mlp-grid"], 30000),
    "healthy-stacked": ("healthy", ["--recipe", "dcgan-stacked-digits"], 60000),  # the recipe's own steps
    "healthy-wgan-gp": ("healthy", ["--loss", "wgan-gp"], 2000),
    "healthy-fashion": ("healthy", ["--recipe", "dcgan-fashion"], 4000),  # needs dataset-fashion-mnist installed
}
# Extra `gancli evaluate` flags: the 10% run is judged against all the digits, the images it should generalise to
# (its own 180 are too few for the metrics' halves).
EVALUATE_FLAGS = {"overfit-digits-10pct": ["--data", "digits", "--metrics", "fid"]}


def train_command(name: str, out: str, scale: float, evaluate: bool) -> list:
    label, flags, steps = RUNS[name]
    command = [sys.executable, "-m", "gancli", "train", *flags, "--out", out]
    if scale < 1:
        steps = max(2, round(steps * scale))
    command += ["--steps", str(steps)]
    if evaluate:
        every = max(1, steps // CHECKPOINTS)
        command += ["--checkpoint-every", str(every), "--keep-checkpoints", str(CHECKPOINTS)]
    if scale < 1:  # a quick check: tiny networks and batches, diagnostics often enough to be seen
        command += ["--batch-size", "16", "--log-every", "2", "--diagnostics-every", "2"]
        if name != "collapse-course-digits":  # the course layout needs 28x28 images
            command += ["--arch-opt", "width=8"]
    return command


def run_one(name: str, work: str, scale: float, evaluate: bool) -> dict:
    """Train (unless done), evaluate (with --evaluate) and read back one labelled run."""
    out = os.path.join(work, name)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = train_command(name, out, scale, evaluate)
    if not os.path.exists(os.path.join(out, "generator.safetensors")):
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    if evaluate and not os.path.isfile(os.path.join(out, "evaluations.jsonl")):
        subprocess.run([sys.executable, "-m", "gancli", "evaluate", out, "--all-checkpoints",
                        *EVALUATE_FLAGS.get(name, [])], check=True,
                       capture_output=True, env=env, cwd=ROOT)
    return summarize(name, out, command)


def read_jsonl(path: str) -> list:
    if not os.path.isfile(path):
        return []
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def summarize(name: str, out: str, command: list) -> dict:
    label = RUNS[name][0]
    records = read_jsonl(os.path.join(out, "metrics.jsonl"))
    alarms = read_jsonl(os.path.join(out, "alarms.jsonl"))
    with open(os.path.join(out, "run.json")) as fh:
        config = json.load(fh)
    steps = config["steps"]
    evaluations = read_jsonl(os.path.join(out, "evaluations.jsonl"))
    lost = quality_lost(evaluations)
    first = {}
    for event in alarms:
        first.setdefault(event["kind"], event["step"])
    right = first.get(label)
    in_time = {}  # for a failing run flagged right: within the first fifth, and before its quality was lost
    if label == "healthy":
        verdict = "pass" if not alarms else "false alarm"
    elif right is None:
        verdict = "missed"
    else:
        in_time = {"first_fifth": right <= EARLY * steps, "before_lost": lost is None or right < lost}
        verdict = "pass" if in_time["first_fifth"] or (lost is not None and in_time["before_lost"]) else "late"
    return {"name": name, "label": label, "steps": steps, "alarms": first, "quality_lost_at": lost,
            "in_time": in_time,
            "verdict": verdict, "closest": closest(records), "evaluated": len(evaluations),
            "quality": quality(evaluations),
            "command": "gancli " + shlex.join(command[command.index("train"):]).replace(ROOT + "/", "")}


def watched() -> list:
    """(signal, "<" or ">", the default diagnostic's options) of each default alarm's main signal."""
    from gancli.default_plugins import diagnostics as d

    return [("diversity", "<", d.DiversityDiagnostic.Options()), ("coverage", "<", d.CoverageDiagnostic.Options()),
            ("d_saturation", ">", d.SaturationDiagnostic.Options()),
            ("holdout_gap", ">", d.OverfittingDiagnostic.Options())]


def closest(records: list) -> dict:
    """How near each default alarm's signal came to its threshold: its lowest (for "<") or highest value from
    the alarm's first step on, with the threshold: {signal: [value, op, threshold]}."""
    found = {}
    for signal, op, options in watched():
        values = [r[signal] for r in records if signal in r and r["step"] >= options.after]
        if values:
            found[signal] = [min(values) if op == "<" else max(values), op, options.threshold]
    return found


def quality(evaluations: list) -> str:
    """The first and last evaluated figures: 'FD 191 -> 8.98, modes 10 -> 10'."""
    if not evaluations:
        return ""
    first, last = evaluations[0].get("values", {}), evaluations[-1].get("values", {})
    return ", ".join(f"{label} {first[key]:.3g} -> {last[key]:.3g}" for key, label in (("fid", "FD"), ("modes", "modes"))
                     if key in first and key in last)


def quality_lost(evaluations: list) -> int | None:
    """The first evaluated step from which the run stays visibly lost: its mode (or class) count at or below half
    the data's (the floor's count), or, where no modes are counted, FD at twice its best or more (None without
    evaluations, or when it never is)."""
    evaluations = sorted(evaluations, key=lambda e: e.get("generator", {}).get("step") or 0)
    best_fd = min((e["values"]["fid"] for e in evaluations if "fid" in e.get("values", {})), default=None)
    bad = []
    for e in evaluations:
        values, all_modes = e.get("values", {}), e.get("floors", {}).get("modes")
        if "modes" in values and all_modes:
            bad.append((e["generator"]["step"], values["modes"] <= all_modes / 2))
        elif "fid" in values:
            bad.append((e["generator"]["step"], values["fid"] >= 2 * best_fd))
    for i, (step, is_bad) in enumerate(bad):
        if is_bad and all(b for _, b in bad[i:]):
            return step
    return None


def cost(rounds: int, steps: int) -> dict:
    """Training loop seconds with diagnostics on, off and off again, side by side (see the module's notes), and
    the seconds spent inside the diagnostics of the runs with them on, timed around Monitor.observe."""
    import time

    import gancli
    from gancli.diagnostics.monitor import Monitor

    inside = [0.0]
    observe = Monitor.observe

    def timed_observe(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return observe(self, *args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - start

    settings = {"on": {}, "off": {"diagnostics": "off"}, "off-again": {"diagnostics": "off"}}
    times, shares = {name: [] for name in settings}, []
    Monitor.observe = timed_observe
    try:
        with tempfile.TemporaryDirectory() as work:
            for index in range(rounds + 1):  # round 0 warms up
                order = list(settings)[index % 3:] + list(settings)[:index % 3]
                for name in order:
                    inside[0] = 0.0
                    run = gancli.train(steps=steps, out=os.path.join(work, f"{index}-{name}"), progress=False,
                                       sample_every=10 ** 6, checkpoint_every=10 ** 6, **settings[name])
                    if index:
                        times[name].append(run.last["elapsed_s"])
                        if name == "on":
                            shares.append(inside[0] / run.last["elapsed_s"])
    finally:
        Monitor.observe = observe
    on = statistics.median(a / b for a, b in zip(times["on"], times["off"]))
    noise = statistics.median(a / b for a, b in zip(times["off-again"], times["off"]))
    return {"rounds": rounds, "steps": steps, "seconds": times, "ratio_on": round(on, 4),
            "ratio_noise": round(noise, 4), "share_inside": round(statistics.median(shares), 5),
            "goal": GOAL_COST, "met": on <= GOAL_COST and 1 + statistics.median(shares) <= GOAL_COST}


WHY = {
    "collapse-grid": "minimax BCE on the 25-mode grid with a 2-d latent and the course's MLP (BatchNorm in G)",
    "collapse-course-digits": "the course's DCGAN layout trained unconditionally, which collapsed to one noise image "
                              "on the digits (docs/components.md)",
    "vanishing-minimax-dlr10": "minimax BCE with D's learning rate 10x G's: D wins at once and BCE goes flat",
    "overfit-digits-10pct": "10% of the digits (180 images) for 10,000 steps, no augmentation: D memorises them; "
                            "the other 90% are the held-out split",
    "healthy-default": "the default run (dcgan + bce on the digits)",
    "healthy-grid": "the grid recipe (all 25 modes, docs/mixtures.md)",
    "healthy-stacked": "the stacked-digits recipe (1,000 modes)",
    "healthy-wgan-gp": "dcgan + wgan-gp on the digits",
    "healthy-fashion": "the Fashion-MNIST recipe for its first 4,000 steps, about 5 minutes; with a held-out split "
                       "(the test images), so D's overfitting signal is watched on plenty of data",
}


def render(data: dict) -> str:
    made = sorted({(r["bench"], r["machine"], r["date"]) for r in data.get("runs", []) if "bench" in r})
    written = ("Written by " + "; ".join(f"`{b}` on {m}, {d}" for b, m, d in made) + "." if made else
               "Not measured yet: the table fills in when the bench runs (commands in bench/diagnostics.py).")
    lines = ["# Diagnostics on labelled runs", "",
             "Runs built to fail in one named way or to succeed, each trained with the default diagnostics "
             "([diagnostics.md](diagnostics.md)). Goal: every failing run flagged with the right alarm within the "
             "first fifth of its steps or before its measured quality turns bad (with `--evaluate`: a mixture's "
             "mode count at or below half its modes, FD at twice its best, from then on), and no alarm on a healthy "
             f"run. {written}", "", "## The runs", "", "| run | label | steps | why |", "|---|---|---|---|"]
    for name, (label, flags, steps) in RUNS.items():
        lines.append(f"| {name} | {label} | {steps} | {WHY[name]}: "
                     f"`gancli train {shlex.join(flags)}` |")
    lines += ["", "## Results", "",
              "| run | label | steps | alarms (kind: step) | quality, first -> last checkpoint | quality lost at | "
              "right alarm in the first fifth / before quality lost | verdict | closest to each alarm (threshold) | "
              "command |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for row in data.get("runs", []):
        alarms = ", ".join(f"{k}: {v}" for k, v in row["alarms"].items()) or "none"
        signals = ", ".join(f"{k} {v:.3g} ({op} {t:g})" for k, (v, op, t) in row["closest"].items())
        lost = row["quality_lost_at"] if row["quality_lost_at"] is not None else \
            ("never" if row["evaluated"] else "not measured")
        timing = " / ".join("yes" if row["in_time"][k] else "no" for k in ("first_fifth", "before_lost")) \
            if row["in_time"] else ""
        lines.append(f"| {row['name']} | {row['label']} | {row['steps']} | {alarms} | {row['quality']} | {lost} | "
                     f"{timing} | {row['verdict']} | {signals} | `{row['command']}` |")
    if not data.get("runs"):
        lines.append("| (not run yet) | | | | | | | | | |")
    lines += ["", "Quality: FD on gancli's classifier features and the mode (class) count of `gancli evaluate`, at the "
              f"{CHECKPOINTS} checkpoints of each run; lost: from that checkpoint on, modes at or below half the "
              "data's, or (where no modes are counted) FD at twice the run's best. Verdicts: pass (the right alarm "
              "within the first fifth of the steps, or before the quality was lost; a healthy run with no alarm), "
              "late, missed, false alarm. Closest: the lowest (for <) or highest (for >) value each default alarm's "
              "signal took from the alarm's first step on."]
    lines += ["", "## Cost", ""]
    c = data.get("cost")
    if c:
        lines.append(f"The default run, {c['steps']} steps, {c['rounds']} rounds: diagnostics on take "
                     f"{c['ratio_on']:.3f}x the loop time of off (goal at most {c['goal']}); two runs with them off "
                     f"differ by {c['ratio_noise']:.3f}x on this machine, so the side-by-side figure is only as "
                     f"sharp as that. " + (f"Timed directly, the diagnostics' own computations take "
                     f"{100 * c['share_inside']:.2f}% of the loop time of the runs with them on. "
                     if "share_inside" in c else "") +
                     f"Goal {'met' if c['met'] else 'not met'}. "
                     f"Written by `{c['bench']}` on {c['machine']}, {c['date']}.")
    else:
        lines.append("Not measured yet: `OMP_NUM_THREADS=1 python bench/diagnostics.py --cost`.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=",".join(RUNS), help="labelled runs to train, comma-separated")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    parser.add_argument("--scale", type=float, default=1.0, help="steps times this (below 1: tiny networks too, "
                        "to check the bench itself)")
    parser.add_argument("--evaluate", action="store_true", help="evaluate every checkpoint of each run")
    parser.add_argument("--cost", action="store_true", help="measure the cost instead of training labelled runs")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--cost-steps", type=int, default=300)
    parser.add_argument("--work", default=os.path.join(ROOT, "runs", "diagnostics"), help="folder of the runs")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "diagnostics-runs.md"))
    parser.add_argument("--render", action="store_true", help="train nothing: rewrite --out from its JSON")
    args = parser.parse_args()
    json_path = os.path.splitext(args.out)[0] + ".json"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    made = {"bench": "python bench/diagnostics.py " + shlex.join(sys.argv[1:]), "machine": platform.platform(),
            "date": datetime.date.today().isoformat()}

    def save(row: dict | None = None, cost_figures: dict | None = None) -> dict:
        """Merge a finished row or the cost into the JSON as it is on disk now (another bench may have written
        since), then rewrite the page."""
        data = json.load(open(json_path)) if os.path.isfile(json_path) else {}
        if row is not None:
            kept = {r["name"]: r for r in data.get("runs", [])} | {row["name"]: {**row, **made}}
            data["runs"] = [kept[n] for n in RUNS if n in kept]
        if cost_figures is not None:
            data["cost"] = {**cost_figures, **made}
        with open(json_path, "w") as fh:
            json.dump(data, fh, indent=2)
        with open(args.out, "w") as fh:
            fh.write(render(data))
        return data

    if args.render:
        save()
    elif args.cost:
        save(cost_figures=cost(args.rounds, args.cost_steps))
    else:
        names = [n.strip() for n in args.runs.split(",") if n.strip()]
        unknown = sorted(set(names) - set(RUNS))
        if unknown:
            raise SystemExit(f"unknown runs {unknown}; known: {', '.join(RUNS)}")
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(run_one, n, args.work, args.scale, args.evaluate) for n in names]
            for future in concurrent.futures.as_completed(futures):
                row = future.result()
                save(row=row)
                print(f"{row['name']}: {row['verdict']}", flush=True)
    print(args.out)


if __name__ == "__main__":
    main()
