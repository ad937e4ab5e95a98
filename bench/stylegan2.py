"""The style-based generator against DCGAN, measured; writes docs/stylegan2.json and docs/stylegan2.md.

    python bench/stylegan2.py quality --minutes 10     dcgan and stylegan2 side by side for the same wall time,
                                                       on the digits and on the faces, evaluated beside the floor
    python bench/stylegan2.py truncation               FD and precision/recall against psi, for the stylegan2 runs
    python bench/stylegan2.py speed                    images/s of both at the same batch and resolution
    python bench/stylegan2.py render                   rewrite the page from the saved figures

Each finished measurement is saved at once in docs/stylegan2.json, so a stopped bench loses nothing; a
measurement already there is skipped (--again redoes it). Every figure comes from the `gancli` command line, and
the commands are written beside the tables. Training runs use one thread each (OMP_NUM_THREADS=1), the two
architectures in two processes at the same time, so they share the machine alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GANCLI = [sys.executable, "-m", "gancli"]
RESULTS = os.path.join(ROOT, "docs", "stylegan2.json")
PAGE = os.path.join(ROOT, "docs", "stylegan2.md")
WORK = os.path.join("runs", "bench-stylegan2")  # relative to ROOT, where every command runs

DATA = {"digits": ["--data", "digits"], "faces": ["--data", "faces"]}
RECIPES = {  # the same batch, EMA and seed for both; each architecture with its paper's regularisation
    "dcgan": ["--arch", "dcgan", "--ema", "0.999"],
    "stylegan2": ["--arch", "stylegan2", "--lipschitz", "r1", "--lipschitz-opt", "gamma=0.01", "--lipschitz-opt",
                  "interval=16", "--ema", "0.999", "--beta1", "0", "--beta2", "0.99", "--lr", "0.0025"],
}
COMMON = ["--batch-size", "32", "--seed", "0", "--steps", "10000000", "--checkpoint-every", "250",
          "--sample-every", "1000", "--log-every", "50"]
PSI = (0.3, 0.5, 0.7, 0.85, 1.0)


def load() -> dict:
    return json.load(open(RESULTS)) if os.path.isfile(RESULTS) else {}


def save(results: dict) -> None:
    """Merge into what is on disk: another bench process may have saved its own measurements meanwhile."""
    results.update({k: v for k, v in load().items() if k not in results})
    with open(RESULTS + ".tmp", "w") as fh:
        json.dump(results, fh, indent=2)
    os.replace(RESULTS + ".tmp", RESULTS)


def shown(args: list, threads: bool = True) -> str:
    return ("OMP_NUM_THREADS=1 " if threads else "") + "gancli " + " ".join(map(shlex.quote, args))


def gancli_json(args: list) -> dict:
    print(f"$ {shown(args, False)}", file=sys.stderr, flush=True)
    done = subprocess.run(GANCLI + args, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(f"failed ({done.returncode}): {shown(args, False)}")
    return json.loads(done.stdout)


def train_for(jobs: dict, seconds: float) -> dict:
    """Start every ``{name: args}`` training at once, stop each with SIGTERM after ``seconds`` (the trainer then
    finishes its step and writes a checkpoint); returns {name: the command as shown}."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    running = {}
    for name, args in jobs.items():
        print(f"$ {shown(args)}   # stopped after {seconds:.0f} s", file=sys.stderr, flush=True)
        running[name] = subprocess.Popen(GANCLI + args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    time.sleep(seconds)
    for process in running.values():
        process.send_signal(signal.SIGTERM)
    for name, process in running.items():
        process.wait()
    return {name: shown(args) for name, args in jobs.items()}


def last_metrics(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "metrics.jsonl")) as fh:
        return json.loads(fh.read().strip().splitlines()[-1])


def quality(results: dict, minutes: float, again: bool, datasets, reuse: bool = False) -> None:
    for data in datasets:
        data_args = DATA[data]
        key = f"quality/{data}/{minutes:g}min"
        if key in results and not again:
            continue
        runs = {arch: os.path.join(WORK, f"{data}-{arch}-{minutes:g}min") for arch in RECIPES}
        jobs = {arch: ["train", *data_args, *RECIPES[arch], *COMMON, "--out", runs[arch]] for arch in RECIPES}
        if reuse and all(os.path.isfile(os.path.join(r, "generator.safetensors")) for r in runs.values()):
            commands = {arch: shown(args) for arch, args in jobs.items()}  # trained by an earlier, stopped bench
        else:
            for run_dir in runs.values():
                subprocess.run(["rm", "-rf", run_dir])
            commands = train_for(jobs, minutes * 60)
        entry = {"minutes": minutes, "runs": {}}
        for arch, run_dir in runs.items():
            evaluation = gancli_json(["evaluate", run_dir, "--json", "--no-record"])
            metrics = last_metrics(run_dir)
            entry["runs"][arch] = {"dir": run_dir, "command": commands[arch],
                                   "step": evaluation["generator"]["step"], "elapsed_s": metrics["elapsed_s"],
                                   "values": evaluation["values"], "floors": evaluation["floors"],
                                   "extractor": evaluation["extractor"]["name"]}
        results[key] = entry
        save(results)


def truncation(results: dict, again: bool) -> None:
    for key, entry in list(results.items()):
        if not key.startswith("quality/"):
            continue
        run = entry["runs"].get("stylegan2")
        data = key.split("/")[1]
        out = f"truncation/{data}"
        if run is None or (out in results and not again):
            continue
        curve = []
        for psi in PSI:
            evaluation = gancli_json(["evaluate", run["dir"], "--json", "--no-record", "--metrics", "fid,prdc",
                                      "--truncation", str(psi)])
            curve.append({"psi": psi, **{k: evaluation["values"][k] for k in ("fid", "precision", "recall")},
                          "floor_fid": evaluation["floors"]["fid"]})
        results[out] = {"run": run["dir"], "step": run["step"], "curve": curve,
                        "command": shown(["evaluate", run["dir"], "--metrics", "fid,prdc", "--truncation", "PSI"],
                                         False)}
        save(results)
        plot_truncation(data, results[out])


def plot_truncation(data: str, entry: dict) -> None:
    sys.path.insert(0, ROOT)
    from gancli.metrics.plots import PALETTE, Series, grid, line_chart

    psi = [p["psi"] for p in entry["curve"]]
    fd = line_chart([Series("stylegan2", psi, [p["fid"] for p in entry["curve"]], markers=True),
                     Series("floor", psi, [p["floor_fid"] for p in entry["curve"]], PALETTE[1], dashed=True)],
                    f"{data}: FD against truncation", x_label="psi")
    pr = line_chart([Series("precision", psi, [p["precision"] for p in entry["curve"]], markers=True),
                     Series("recall", psi, [p["recall"] for p in entry["curve"]], PALETTE[2], markers=True)],
                    f"{data}: precision and recall against truncation", x_label="psi")
    folder = os.path.join(ROOT, "docs", "images", "stylegan2")
    os.makedirs(folder, exist_ok=True)
    grid([fd, pr]).save(os.path.join(folder, f"truncation-{data}.png"))


def speed(results: dict, again: bool) -> None:
    """images/s through D at batch 64, both architectures at 32x32 faces, one thread, alternating three times."""
    if "speed" in results and not again:
        return
    rates = {arch: [] for arch in RECIPES}
    commands = {}
    for _ in range(3):
        for arch in RECIPES:
            out = os.path.join(WORK, f"speed-{arch}")
            subprocess.run(["rm", "-rf", out])
            args = ["train", "--data", "faces", *RECIPES[arch], "--batch-size", "64", "--steps", "20",
                    "--log-every", "10", "--checkpoint-every", "1000", "--sample-every", "1000", "--out", out]
            commands[arch] = shown(args)
            subprocess.run(GANCLI + args, env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(os.path.join(out, "metrics.jsonl")) as fh:
                lines = [json.loads(line) for line in fh]
            rates[arch].append(lines[-1]["images_per_s"])  # the last 10 steps: past warm-up
    median = {arch: sorted(values)[1] for arch, values in rates.items()}
    results["speed"] = {"images_per_s": rates, "median": median, "commands": commands,
                        "ratio": median["stylegan2"] / median["dcgan"]}
    save(results)


def fmt(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def render(results: dict) -> None:
    lines = ["# stylegan2 against dcgan", "",
             "Written by `python bench/stylegan2.py` from [stylegan2.json](stylegan2.json). The architecture: "
             "[components.md](components.md#stylegan2); its latent spaces, truncation and mixing: "
             "[controllable.md](controllable.md). Figures from this 2-core CPU, shared; FD is measured on the "
             "features of gancli's own classifier of each dataset (see [evaluate.md](evaluate.md)), always beside "
             "its floor (real against real).", ""]
    for key, entry in results.items():
        if not key.startswith("quality/"):
            continue
        data = key.split("/")[1]
        lines += [f"## {data}, {entry['minutes']:g} minutes of training each", "",
                  "Both trained at the same time, one thread each, stopped after the same wall time:", ""]
        lines += [f"- `{run['command']}`" for run in entry["runs"].values()]
        runs = entry["runs"]
        names = list(runs)
        lines += ["", "| figure | " + " | ".join(f"{n} (step {runs[n]['step']:,})" for n in names) + " | floor |",
                  "|---|" + "---:|" * (len(names) + 1)]
        for figure in runs[names[0]]["values"]:
            cells = " | ".join(fmt(runs[n]["values"].get(figure)) for n in names)
            lines.append(f"| {figure} | {cells} | {fmt(runs[names[0]]['floors'].get(figure))} |")
        lines += ["", f"Extractor: {runs[names[0]]['extractor']}.", ""]
    for key, entry in results.items():
        if not key.startswith("truncation/"):
            continue
        data = key.split("/")[1]
        lines += [f"## Truncation on {data}", "",
                  f"The stylegan2 run above (step {entry['step']:,}), `{entry['command']}` for each psi:", "",
                  "| psi | FD | precision | recall |", "|---:|---:|---:|---:|"]
        lines += [f"| {p['psi']:g} | {fmt(p['fid'])} | {fmt(p['precision'], 3)} | {fmt(p['recall'], 3)} |"
                  for p in entry["curve"]]
        lines += ["", f"FD floor: {fmt(entry['curve'][0]['floor_fid'])}.", "",
                  f"![FD and precision/recall against psi on {data}](images/stylegan2/truncation-{data}.png)", ""]
    if "speed" in results:
        entry = results["speed"]
        lines += ["## Speed", "", "Training images/s through D at batch 64 on 32x32 faces, one thread, three "
                  "alternating runs of 20 steps each (the last 10 steps' rate):", ""]
        lines += [f"- `{command}`" for command in entry["commands"].values()]
        lines += ["", "| architecture | images/s (three runs) | median |", "|---|---|---:|"]
        lines += [f"| {arch} | {', '.join(f'{v:g}' for v in values)} | {entry['median'][arch]:g} |"
                  for arch, values in entry["images_per_s"].items()]
        lines += ["", f"stylegan2 runs at {entry['ratio']:.2f}x dcgan's rate.", ""]
    with open(PAGE, "w") as fh:  # commands as a user types them in the project folder
        fh.write("\n".join(lines).replace(ROOT + os.sep, ""))
    print(f"wrote {PAGE}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("quality", "truncation", "speed", "render"))
    parser.add_argument("--minutes", type=float, default=10.0, help="training wall time per run (quality)")
    parser.add_argument("--again", action="store_true", help="redo measurements already saved")
    parser.add_argument("--reuse", action="store_true", help="quality: evaluate the runs an earlier, stopped bench "
                        "trained for the same minutes instead of training them again")
    parser.add_argument("--data", action="append", choices=sorted(DATA), help="dataset for quality (repeatable; "
                        "default: all)")
    args = parser.parse_args()
    os.chdir(ROOT)
    os.makedirs(WORK, exist_ok=True)
    results = load()
    if args.what == "quality":
        quality(results, args.minutes, args.again, args.data or list(DATA), args.reuse)
    elif args.what == "truncation":
        truncation(results, args.again)
    elif args.what == "speed":
        speed(results, args.again)
    render(results)


if __name__ == "__main__":
    main()
