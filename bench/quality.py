"""Rerun gancli's quality protocols for images (the digits beside their floor, stacked digits' 1,000 modes) and
write the tables to docs/quality.md. The 2-D mixtures have their own bench, bench/mixtures.py.

Every figure comes from the `gancli` command line itself (train, evaluate --json), and the commands are written
beside the tables, so anyone can rerun one line and get the same numbers (same seeds, same machine class).

    python bench/quality.py                                    train what is missing, evaluate, write docs
    python bench/quality.py --digits-run runs/0001 --stacked-run runs/0002    evaluate existing runs

Training runs use one thread each (OMP_NUM_THREADS=1): the machine this was written on is shared.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GANCLI = [sys.executable, "-m", "gancli"]

DIGITS_TRAIN = ["train"]  # the default run: DCGAN + BCE on the built-in digits, 2,000 steps
STACKED_TRAIN = ["train", "--data", "stacked-digits", "--data-opt", "size=8", "--arch-opt", "width=128",
                 "--lipschitz", "r1", "--lipschitz-opt", "gamma=1",  # R1 keeps D from running away
                 "--ema", "0.999", "--lr-decay", "linear", "--steps", "60000", "--batch-size", "64",
                 "--checkpoint-every", "5000", "--keep-checkpoints", "12"]  # no packing: it raised the KL here
# 8x8 is the digits' own resolution (16x16 is their bicubic upsampling): a fifth of the cost per step.

PUBLISHED_STACKED = [("DCGAN (VEEGAN paper)", "99", "3.4"), ("WGAN-GP (GDPP paper)", "995", "0.148"),
                     ("PacDCGAN2 (PacGAN paper)", "1000", "0.06")]


def gancli(args: list, log: list, threads: int | None = None) -> str:
    """Run one gancli command, record it for the docs, return its stdout."""
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    shown = ("OMP_NUM_THREADS=1 " if threads == 1 else "") + "gancli " + " ".join(map(shlex.quote, args))
    print(f"$ {shown}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    done = subprocess.run(GANCLI + args, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(f"failed ({done.returncode}): {shown}")
    log.append((shown, time.perf_counter() - start))
    return done.stdout


def evaluate(target: str, log: list, *extra) -> dict:
    return json.loads(gancli(["evaluate", target, "--json", *extra], log))


def train(args: list, out: str, log: list) -> str:
    if os.path.isdir(out):
        shutil.rmtree(out)
    gancli(args + ["--out", out], log, threads=1)
    return out


def train_command(run_dir: str) -> str:
    """The `gancli train` line that reproduces a run, rebuilt from its run.json (every option spelled out)."""
    config = json.load(open(os.path.join(run_dir, "run.json")))
    args = ["train", "--arch", config["arch"]["name"], "--loss", config["loss"]["name"]]
    for flag, item in (("--arch-opt", config["arch"]), ("--loss-opt", config["loss"])):
        args += [part for key, value in item["options"].items() for part in (flag, f"{key}={value}")]
    args += ["--data", config["data"]["name"]]
    args += [part for key, value in config["data"]["options"].items() for part in ("--data-opt", f"{key}={value}")]
    for enforcer in config["lipschitz"]:
        args += ["--lipschitz", enforcer["name"]]
        args += [part for key, value in enforcer["options"].items()
                 for part in ("--lipschitz-opt", f"{enforcer['name']}.{key}={value}")]
    if config["conditional"]:
        args.append("--conditional")
    for key in ("ema", "pack", "steps", "batch_size", "z_dim", "n_critic", "lr", "lr_decay", "beta1", "beta2", "seed",
                "checkpoint_every", "keep_checkpoints"):
        if config.get(key) is not None:
            args += [f"--{key.replace('_', '-')}", str(config[key])]
    return "gancli " + " ".join(map(shlex.quote, args))


def training_minutes(run_dir: str) -> float:
    """Wall time of the training steps, from the last line of the run's metrics log."""
    with open(os.path.join(run_dir, "metrics.jsonl")) as fh:
        last = fh.read().strip().splitlines()[-1]
    return json.loads(last)["elapsed_s"] / 60


def fmt(value, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def digits_section(run_dirs: list, log: list, note: str | None) -> list:
    """Default digits runs side by side, with the floor (the same for every run: same data, same split)."""
    results = [evaluate(run_dir, log, "--no-record") for run_dir in run_dirs]  # leave the runs as they were
    first = results[0]
    lines = ["## Built-in digits: default `gancli train` runs beside the floor", "",
             f"Extractor: {first['extractor']['name']}. Generated samples: {first['samples']['generated']:,}; "
             f"floor: {first['samples']['floor']:,} real digits against the other {first['samples']['floor']:,}.",
             ""]
    for i, run_dir in enumerate(run_dirs, 1):
        lines.append(f"{i}. `{train_command(run_dir)}`")
    if note:
        lines += ["", note]
    header = " | ".join(f"run {i}, step {r['generator']['step']:,}" for i, r in enumerate(results, 1))
    lines += ["", f"| figure | {header} | floor (real vs real) |", "|---|" + "---:|" * (len(results) + 1)]
    for key in first["values"]:
        cells = " | ".join(fmt(r["values"][key]) for r in results)
        lines.append(f"| {key} | {cells} | {fmt(first['floors'][key])} |")
    return lines + [""]


def stacked_section(run_dir: str, log: list, note: str | None) -> list:
    history = evaluate(run_dir, log, "--metrics", "modes", "--all-checkpoints")
    plain_history = evaluate(run_dir, log, "--metrics", "modes", "--all-checkpoints", "--judge", "plain",
                             "--no-record")
    evaluations = history.get("evaluations", [history])
    plain_kl = {e["generator"]["step"]: e["values"]["kl"] for e in plain_history.get("evaluations", [plain_history])}
    final = evaluations[-1]
    best = min(evaluations, key=lambda e: e["values"]["kl"])
    classifier = final["classifier"]
    config = json.load(open(os.path.join(run_dir, "run.json")))
    enforcers = "".join(f" + {item['name']} ({', '.join(f'{k} {v}' for k, v in item['options'].items())})"
                        for item in config["lipschitz"])
    decay = ", learning rate decaying linearly to 0" if config.get("lr_decay") == "linear" else ""
    recipe = (f"{config['arch']['name']} (width {config['arch']['options']['width']}) + {config['loss']['name']}"
              f"{enforcers}, "
              f"pack {config.get('pack', 1)}, EMA {config.get('ema') or 'off'}, {config['steps']:,} steps, batch "
              f"{config['batch_size']}{decay}, digits at {config['data']['options']['size']}x"
              f"{config['data']['options']['size']}")
    lines = ["## Stacked digits: 1,000 modes", "",
             f"Recipe: {recipe}. Scored on {final['samples']['generated']:,} generated samples; each channel is "
             f"classified by gancli's robust {classifier['dataset']} classifier at the training resolution (the "
             "default class judge: [evaluate.md](evaluate.md#the-class-judge)), whose held-out accuracy is "
             f"{classifier['accuracy']:.1%} on {classifier['n_holdout']} digits it never saw (the protocol asks for "
             "at least 97%). The last column is the same samples judged by the plain classifier "
             "(`--judge plain`), the judge of earlier versions of this page.", "",
             f"Trained with: `{train_command(run_dir)}`", "",
             "| model | modes (of 1,000) | KL | KL, plain judge |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {modes} | {kl} | |" for name, modes, kl in PUBLISHED_STACKED]

    def row(label, e, bold=False):
        mark = "**" if bold else ""
        return (f"| {mark}{label}{mark} | {mark}{fmt(e['values']['modes'])}{mark} | "
                f"{mark}{fmt(e['values']['kl'], 3)}{mark} | {fmt(plain_kl.get(e['generator']['step']), 3)} |")

    lines.append(row(f"gancli, final step {final['generator']['step']:,}", final, bold=True))
    if best is not final:
        lines.append(row(f"gancli, best checkpoint (step {best['generator']['step']:,}, chosen by this KL)", best))
    lines.append(f"| floor: {final['samples']['floor']:,} real stacked images | {fmt(final['floors']['modes'])} | "
                 f"{fmt(final['floors']['kl'], 3)} | |")
    met = final["values"]["modes"] == 1000 and (final["values"]["kl"] or float("inf")) < 0.06
    lines += ["", f"Goal (all 1,000 modes with KL below 0.06): {'met' if met else 'not met'} by the final step. "
              f"Training took {training_minutes(run_dir):.0f} minutes on this CPU, one thread, "
              "alongside other jobs."]
    lines += ["", "Over training (each kept checkpoint, same seed and sample count):", "",
              "| step | modes | KL | KL, plain judge |", "|---:|---:|---:|---:|"]
    lines += [f"| {e['generator']['step']:,} | {fmt(e['values']['modes'])} | {fmt(e['values']['kl'], 3)} | "
              f"{fmt(plain_kl.get(e['generator']['step']), 3)} |" for e in evaluations]
    if note:
        lines += ["", note]
    return lines + ["", "![stacked digits: modes and KL over training](images/quality/metrics.png)", "",
                    "Its loss curves: [images/quality/losses.png](images/quality/losses.png).", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits-run", action="append",
                        help="an existing default digits run to evaluate, repeatable (else one is trained)")
    parser.add_argument("--digits-note", help="a sentence printed under the digits runs (their history, say)")
    parser.add_argument("--stacked-run", help="an existing stacked-digits run to evaluate (else one is trained)")
    parser.add_argument("--stacked-note", help="text printed under the stacked-digits tables (recipes tried, say)")
    parser.add_argument("--work", default=os.path.join(ROOT, "runs", "bench-quality"), help="folder for trained runs")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "quality.md"))
    args = parser.parse_args()

    log: list = []
    work = os.path.abspath(args.work)
    if args.digits_run:
        digits_runs = [os.path.abspath(run_dir) for run_dir in args.digits_run]
    else:
        digits_runs = [train(DIGITS_TRAIN, os.path.join(work, "digits"), log)]
    if args.stacked_run:
        stacked_run = os.path.abspath(args.stacked_run)
    else:
        stacked_run = train(STACKED_TRAIN, os.path.join(work, "stacked"), log)
    body = digits_section(digits_runs, log, args.digits_note) + stacked_section(stacked_run, log, args.stacked_note)
    body += ["## 2-D mixtures", "", "The ring and grid protocol (modes, high-quality %, KL; 5 seeds per recipe) has "
             "its own bench, `python bench/mixtures.py`, which writes [mixtures.md](mixtures.md).", ""]

    gancli(["report", stacked_run, "-o", os.path.join("docs", "images", "quality")], log)  # relative to ROOT

    header = ["# Quality figures", "",
              f"Written by `python bench/quality.py` on {datetime.date.today()} ({platform.machine()}, "
              f"{os.cpu_count()} CPU cores, shared; no GPU). How each figure is measured: "
              "[evaluate.md](evaluate.md). Every figure sits beside its floor, the same measurement between two "
              "disjoint halves of the real data: a generator cannot be expected to beat it.", ""]
    commands = ["## Commands that produced these figures", "", "```"]
    commands += [f"{shown}    # {seconds:.0f} s" for shown, seconds in log]
    commands += ["```", ""]
    with open(args.out, "w") as fh:
        fh.write("\n".join(header + body + commands))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
