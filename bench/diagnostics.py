"""Training diagnostics on labelled runs, and their cost; writes docs/diagnostics-runs.md and its JSON.

**Labelled runs.** Each run below is built to fail in one named way or to succeed (RUNS: its label, the flags of
`gancli train`, its steps). The bench trains each with the default diagnostics and reads back the alarms it
fired (RUN/alarms.jsonl) and the signals it logged. The goal, per docs/diagnostics.md: every failing run flagged
with the right kind of alarm before it is visibly lost, that is within the first fifth of its steps, or (with
--evaluate) before its measured quality turns bad (the mode count of a mixture at or below half its modes, FD at
twice its best or more, from then on); and no alarm at all on a healthy run. With --evaluate each run's
checkpoints are evaluated (`gancli evaluate RUN --all-checkpoints`); keep --checkpoint-every small enough.

**Cost.** `--cost` trains the default run (dcgan on the digits) side by side with diagnostics on and off, and a
second run with them off for the machine's noise, in one process, the order rotating from round to round, after
a warm-up round that is not counted. The loop is timed by the trainer's own clock (the last record's
elapsed_s, which holds the diagnostics' computations), medians over the rounds; the goal is at most 2% slower.

    OMP_NUM_THREADS=1 python bench/diagnostics.py --jobs 2             every labelled run, then the page
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

# name -> (label: the alarm kind expected, or "healthy"; gancli train flags; steps)
RUNS = {
    "collapse-grid": ("mode-collapse", ["--arch", "mlp", "--data", "grid", "--loss", "bce-minimax", "--z-dim", "2"],
                      10000),
    "collapse-course-digits": ("mode-collapse", ["--arch-opt", "layout=course"], 2000),  # collapsed to one image
    "vanishing-minimax-dlr10": ("vanishing-gradients", ["--loss", "bce-minimax", "--d-lr-scale", "10"], 2000),
    "overfit-digits-10pct": ("overfitting", ["--data-opt", "fraction=0.1", "--augment", "none"], 10000),
    "healthy-default": ("healthy", [], 2000),
    "healthy-grid": ("healthy", ["--recipe", "mlp-grid"], 30000),
    "healthy-stacked": ("healthy", ["--recipe", "dcgan-stacked-digits"], 0),  # 0: the recipe's own steps
    "healthy-wgan-gp": ("healthy", ["--loss", "wgan-gp"], 2000),
}


def train_command(name: str, out: str, scale: float, checkpoint_every: int | None) -> list:
    label, flags, steps = RUNS[name]
    command = [sys.executable, "-m", "gancli", "train", *flags, "--out", out]
    if steps or scale < 1:  # 0: the recipe's own steps (a quick check gives it 2000's share)
        command += ["--steps", str(max(2, round((steps or 2000) * scale)))]
    if checkpoint_every:
        command += ["--checkpoint-every", str(checkpoint_every)]
    if scale < 1:  # a quick check: tiny networks and batches, diagnostics often enough to be seen
        command += ["--batch-size", "16", "--log-every", "2", "--diagnostics-every", "2"]
        if name != "collapse-course-digits":  # the course layout needs 28x28 images
            command += ["--arch-opt", "width=8"]
    return command


def run_one(name: str, work: str, scale: float, evaluate: bool, checkpoint_every: int | None) -> dict:
    """Train (unless done), evaluate (with --evaluate) and read back one labelled run."""
    out = os.path.join(work, name)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    command = train_command(name, out, scale, checkpoint_every)
    if not os.path.exists(os.path.join(out, "generator.safetensors")):
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    if evaluate:
        subprocess.run([sys.executable, "-m", "gancli", "evaluate", out, "--all-checkpoints"], check=True,
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
    steps, modes = config["steps"], MIXTURE_MODES.get(config["data"]["name"])
    lost = quality_lost(read_jsonl(os.path.join(out, "evaluations.jsonl")), modes)
    first = {}
    for event in alarms:
        first.setdefault(event["kind"], event["step"])
    right = first.get(label)
    if label == "healthy":
        verdict = "pass" if not alarms else "false alarm"
    elif right is None:
        verdict = "missed"
    else:
        deadline = max(EARLY * steps, lost or 0)
        verdict = "pass" if right <= deadline else "late"
    last = records[-1] if records else {}
    signals = {k: last[k] for k in ("diversity", "coverage", "d_saturation", "g_grad_rel", "r_t", "holdout_gap",
                                    "d_accuracy") if k in last}
    return {"name": name, "label": label, "steps": steps, "alarms": first, "quality_lost_at": lost,
            "verdict": verdict, "last_signals": signals,
            "command": "gancli " + shlex.join(command[command.index("train"):]).replace(ROOT + "/", "")}


MIXTURE_MODES = {"ring": 8, "grid": 25}


def quality_lost(evaluations: list, modes: int | None) -> int | None:
    """The first evaluated step from which the run stays visibly lost: modes at or below half the mixture's
    ``modes``, or FD at twice its best or more (None without evaluations, or when it never is)."""
    by_step = sorted(((e.get("generator", {}).get("step"), e.get("values", {})) for e in evaluations),
                     key=lambda item: item[0] or 0)
    bad = []
    for step, values in by_step:
        if modes and "modes" in values:
            bad.append((step, values["modes"] <= modes / 2))
        elif "fid" in values:
            best = min(v.get("fid", float("inf")) for _, v in by_step)
            bad.append((step, values["fid"] >= 2 * best))
    for i, (step, is_bad) in enumerate(bad):
        if is_bad and all(b for _, b in bad[i:]):
            return step
    return None


def cost(rounds: int, steps: int) -> dict:
    """Training loop seconds with diagnostics on, off and off again, side by side (see the module's notes)."""
    import gancli

    settings = {"on": {}, "off": {"diagnostics": "off"}, "off-again": {"diagnostics": "off"}}
    times = {name: [] for name in settings}
    with tempfile.TemporaryDirectory() as work:
        for index in range(rounds + 1):  # round 0 warms up
            order = list(settings)[index % 3:] + list(settings)[:index % 3]
            for name in order:
                run = gancli.train(steps=steps, out=os.path.join(work, f"{index}-{name}"), progress=False,
                                   sample_every=10 ** 6, checkpoint_every=10 ** 6, **settings[name])
                if index:
                    times[name].append(run.last["elapsed_s"])
    on = statistics.median(a / b for a, b in zip(times["on"], times["off"]))
    noise = statistics.median(a / b for a, b in zip(times["off-again"], times["off"]))
    return {"rounds": rounds, "steps": steps, "seconds": times, "ratio_on": round(on, 4),
            "ratio_noise": round(noise, 4), "goal": GOAL_COST, "met": on <= GOAL_COST}


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
}


def render(data: dict) -> str:
    written = (f"Written by `{data['command']}` on {data['machine']}, {data['date']}." if data.get("command") else
               "Not measured yet: the table fills in when the bench runs (commands in bench/diagnostics.py).")
    lines = ["# Diagnostics on labelled runs", "",
             "Runs built to fail in one named way or to succeed, each trained with the default diagnostics "
             "([diagnostics.md](diagnostics.md)). Goal: every failing run flagged with the right alarm within the "
             "first fifth of its steps or before its measured quality turns bad (with `--evaluate`: a mixture's "
             "mode count at or below half its modes, FD at twice its best, from then on), and no alarm on a healthy "
             f"run. {written}", "", "## The runs", "", "| run | label | steps | why |", "|---|---|---|---|"]
    for name, (label, flags, steps) in RUNS.items():
        shown = steps or "the recipe's"
        lines.append(f"| {name} | {label} | {shown} | {WHY[name]}: "
                     f"`gancli train {shlex.join(flags)}` |")
    lines += ["", "## Results", "",
              "| run | label | steps | alarms (kind: step) | quality lost at | verdict | last signals | command |",
              "|---|---|---|---|---|---|---|---|"]
    for row in data.get("runs", []):
        alarms = ", ".join(f"{k}: {v}" for k, v in row["alarms"].items()) or "none"
        signals = ", ".join(f"{k} {v:.3g}" for k, v in row["last_signals"].items())
        lost = row["quality_lost_at"] if row["quality_lost_at"] is not None else "not measured / never"
        lines.append(f"| {row['name']} | {row['label']} | {row['steps']} | {alarms} | {lost} | {row['verdict']} | "
                     f"{signals} | `{row['command']}` |")
    if not data.get("runs"):
        lines.append("| (not run yet) | | | | | | | |")
    lines += ["", "Verdicts: pass (flagged with the right kind in time, or a healthy run with no alarm), late, missed, "
              "false alarm."]
    lines += ["", "## Cost", ""]
    c = data.get("cost")
    if c:
        lines.append(f"The default run, {c['steps']} steps, {c['rounds']} rounds: diagnostics on take "
                     f"{c['ratio_on']:.3f}x the loop time of off (goal at most {c['goal']}); two runs with them off "
                     f"differ by {c['ratio_noise']:.3f}x on this machine. Goal {'met' if c['met'] else 'not met'}.")
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
    parser.add_argument("--checkpoint-every", type=int, help="for --evaluate: steps between checkpoints")
    parser.add_argument("--cost", action="store_true", help="measure the cost instead of training labelled runs")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--cost-steps", type=int, default=300)
    parser.add_argument("--work", default=os.path.join(ROOT, "runs", "diagnostics"), help="folder of the runs")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "diagnostics-runs.md"))
    parser.add_argument("--render", action="store_true", help="train nothing: rewrite --out from its JSON")
    args = parser.parse_args()
    json_path = os.path.splitext(args.out)[0] + ".json"
    data = json.load(open(json_path)) if os.path.isfile(json_path) else {}
    if not args.render:
        data.update(command="python bench/diagnostics.py " + shlex.join(sys.argv[1:]), machine=platform.platform(),
                    date=datetime.date.today().isoformat())
        if args.cost:
            data["cost"] = cost(args.rounds, args.cost_steps)
        else:
            names = [n.strip() for n in args.runs.split(",") if n.strip()]
            unknown = sorted(set(names) - set(RUNS))
            if unknown:
                raise SystemExit(f"unknown runs {unknown}; known: {', '.join(RUNS)}")
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                rows = list(pool.map(lambda n: run_one(n, args.work, args.scale, args.evaluate,
                                                       args.checkpoint_every), names))
            kept = {row["name"]: row for row in data.get("runs", [])}
            kept.update({row["name"]: row for row in rows})
            data["runs"] = [kept[n] for n in RUNS if n in kept]
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(json_path, "w") as fh:
            json.dump(data, fh, indent=2)
    with open(args.out, "w") as fh:
        fh.write(render(data))
    print(args.out)


if __name__ == "__main__":
    main()
