"""Mode coverage on the 2-D mixtures (PacGAN protocol, ../shared/PROTOCOLS.md section 1), by recipe and seed.

Trains every recipe on `ring` and `grid` for each seed through the real CLI (one thread per process, two
processes side by side), scores 2,500 generated points per run, and writes docs/mixtures.md.

    python bench/mixtures.py                       # all recipes, 5 seeds
    python bench/mixtures.py --recipes bce,bce-pack4 --seeds 2 --steps 2000
    python bench/mixtures.py --recipes bce-w400 --merge    # add a recipe to the existing table
    python bench/mixtures.py --recipes bce-w400-r1 --mixtures grid --steps 30000 --merge
    python bench/mixtures.py --render                   # rewrite the page from docs/mixtures.json
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import product

import numpy as np

# name -> extra `gancli train` arguments (on top of the common ones below)
RECIPES = {
    "bce": ["--loss", "bce"],
    "bce-pack4": ["--loss", "bce", "--pack", "4"],
    "bce-w400": ["--loss", "bce", "--arch-opt", "width=400"],  # PacGAN's width
    "bce-w400-r1": ["--loss", "bce", "--arch-opt", "width=400", "--lipschitz", "r1", "--lipschitz-opt", "gamma=0.1"],
    "bce-w400-r1-decay": ["--loss", "bce", "--arch-opt", "width=400", "--lipschitz", "r1", "--lipschitz-opt",
                          "gamma=0.1", "--lr-decay", "linear"],  # the rate falls linearly to 0 at the last step
    "bce-minimax": ["--loss", "bce-minimax"],
    "lsgan": ["--loss", "lsgan"],
    "hinge-sn": ["--loss", "hinge", "--lipschitz", "spectral-norm"],
    "bce-r1": ["--loss", "bce", "--lipschitz", "r1", "--lipschitz-opt", "gamma=0.1"],
    "wgan-clip": ["--loss", "wgan", "--lipschitz", "weight-clip"],
    "wgan-gp": ["--loss", "wgan-gp"],
    "wgan-gp-pack4": ["--loss", "wgan-gp", "--pack", "4"],
}
COMMON = ["--arch", "mlp", "--arch-opt", "layout=flat", "--arch-opt", "width=128", "--arch-opt", "g_norm=none",
          "--arch-opt", "init=torch", "--z-dim", "2", "--ema", "0.999", "--batch-size", "256", "--lr", "2e-4",
          "--sample-every", "100000", "--checkpoint-every", "100000", "--log-every", "500"]
STD = {"ring": 0.01, "grid": 0.05}


def train_and_score(recipe: str, data: str, seed: int, steps: int, workdir: str) -> dict:
    import torch

    from gancli.data.mixtures import grid_centres, ring_centres
    from gancli.engine.models import load_generator
    from gancli.metrics.coverage import mixture_scores

    out = os.path.join(workdir, f"{recipe}-{data}-{seed}")
    cmd = [sys.executable, "-m", "gancli", "train", "--data", data, "--steps", str(steps), "--seed", str(seed),
           "--out", out, *COMMON, *RECIPES[recipe]]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    seconds = time.perf_counter() - start
    torch.set_num_threads(1)
    G, meta = load_generator(out)
    z = torch.randn(2500, meta["z_dim"], generator=torch.Generator().manual_seed(1000 + seed))
    with torch.no_grad():
        points = G(z).numpy()
    centres = (ring_centres() if data == "ring" else grid_centres()).numpy()
    return {"recipe": recipe, "data": data, "seed": seed, "steps": steps, "seconds": seconds,
            **mixture_scores(points, centres, STD[data])}


def table(results: list, recipes: list) -> str:
    lines = ["| recipe | seeds x steps | ring modes (mean / worst) | ring hq % (mean / worst) | ring kl "
             "| grid modes (mean / worst) | grid hq % (mean / worst) | grid kl | s per run |", "|---" * 9 + "|"]
    for recipe in recipes:
        by_data = {data: [r for r in results if r["recipe"] == recipe and r["data"] == data] for data in STD}
        shapes, scores, seconds = {}, [], {}
        for data, rows in by_data.items():
            if not rows:  # this recipe was run on the other mixture only
                scores += ["not run"] * 3
                continue
            shapes[data] = f"{len({r['seed'] for r in rows})} x {'/'.join(sorted({str(r['steps']) for r in rows}))}"
            modes, hq, kl = (np.array([r[k] for r in rows]) for k in ("modes", "hq", "kl"))
            scores += [f"{modes.mean():.1f} / {modes.min()}", f"{100 * hq.mean():.1f} / {100 * hq.min():.1f}",
                       f"{kl.mean():.3f}"]
            seconds[data] = np.mean([r["seconds"] for r in rows])
        if len(set(shapes.values())) == 1:
            shape, time_cell = next(iter(shapes.values())), f"{np.mean(list(seconds.values())):.0f}"
        else:  # the mixtures were run with other seeds or lengths: say which is which
            shape = ", ".join(f"{s} ({data})" for data, s in shapes.items())
            time_cell = ", ".join(f"{t:.0f} ({data})" for data, t in seconds.items())
        lines.append("| " + " | ".join([recipe, shape, *scores, time_cell]) + " |")
    return "\n".join(lines)


def goal_lines(results: list, recipes: list) -> list:
    """Which recipes find every mode with at least 95% high-quality points on every seed, per mixture."""
    lines = []
    for data, modes in (("ring", 8), ("grid", 25)):
        runs = {r: [row for row in results if row["recipe"] == r and row["data"] == data] for r in recipes}
        met = [r for r, rows in runs.items()
               if rows and all(row["modes"] == modes and row["hq"] >= 0.95 for row in rows)]
        costs = [f"`{r}` ({runs[r][0]['steps']} steps, {np.mean([row['seconds'] for row in runs[r]]) / 60:.1f} "
                 f"min wall time per run on one CPU thread)" for r in met]
        lines.append(f"- {data}: " + (", ".join(costs) if met else "no recipe yet"))
    return ["Goal (all modes, at least 95% high-quality points, on every seed), met by:", "", *lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--mixtures", default="ring,grid", help="which mixtures to train on")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "mixtures.md"))
    parser.add_argument("--merge", action="store_true",
                        help="keep the other recipes' results from the existing JSON beside --out")
    parser.add_argument("--render", action="store_true", help="train nothing: rewrite --out from its JSON")
    args = parser.parse_args()
    recipes = args.recipes.split(",")
    unknown = [r for r in recipes if r not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe {unknown[0]!r}; recipes: {', '.join(RECIPES)}")
    mixtures = args.mixtures.split(",")
    if not set(mixtures) <= set(STD):
        parser.error(f"--mixtures takes {', '.join(STD)}")
    results_path = os.path.splitext(args.out)[0] + ".json"
    results = []
    if (args.merge or args.render) and os.path.isfile(results_path):
        with open(results_path) as fh:
            results = [r for r in json.load(fh)
                       if args.render or (r["recipe"], r["data"]) not in product(recipes, mixtures)]
    command = ("python bench/mixtures.py " + " ".join(sys.argv[1:])).strip()
    jobs = [] if args.render else [(r, d, s) for r in recipes for d in mixtures for s in range(args.seeds)]
    with tempfile.TemporaryDirectory() as workdir, concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(train_and_score, r, d, s, args.steps, workdir) for r, d, s in jobs]
        for future in concurrent.futures.as_completed(futures):
            results.append({**future.result(), "command": command})
            print(json.dumps(results[-1]), flush=True)
            with open(results_path, "w") as fh:  # after every run, so an interrupted bench keeps what it finished
                json.dump(results, fh, indent=1)
    recipes = [r for r in RECIPES if any(row["recipe"] == r for row in results)]
    commands = "; ".join(f"`{c}`" for c in dict.fromkeys(row["command"] for row in results))
    report = [
        "# Mode coverage on 2-D mixtures",
        "",
        "PacGAN protocol (../shared/PROTOCOLS.md section 1): 8 Gaussians on a ring (std 0.01) and 25 on a grid "
        "(std 0.05); 2,500 generated points per run; a point is high quality (hq) within 3 std of its nearest "
        "centre; modes = centres with at least one hq point; kl = KL(hq histogram over centres || uniform). "
        "Mean and worst over the seeds; the table gives seeds and generator steps per recipe.",
        "",
        f"Commands: {commands}. Common settings: `gancli train {' '.join(COMMON)}`; one thread per "
        "process, two processes side by side on a 2-core CPU (seconds are wall time per run under that load, "
        "so compare them within a row). Results are saved after every run, so a row with fewer seeds than its "
        "command asked for is a bench stopped early.",
        "",
        table(results, recipes),
        "",
        *goal_lines(results, recipes),
        "Published (modes / hq %): GAN 6.3 / 98.2 (ring), 17.3 / 94.8 (grid); PacGAN4 7.8 / 95.9, 24.8 / 93.6; "
        "WGAN-GP (GDPP paper) 6.8 / 59.6, 24.2 / 28.7.",
        "",
    ]
    with open(args.out, "w") as fh:
        fh.write("\n".join(report))
    with open(results_path, "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
