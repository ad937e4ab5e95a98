"""Directions in W against directions in Z on one faces generator with a mapping network (PROTOCOLS.md section 4).

    python bench/w_directions.py RUN            a stylegan2 faces run (gancli train --arch stylegan2 --data faces)
    python bench/w_directions.py RUN --out docs/w_directions-B     the same, its figures in other files

Fits, in the run itself, InterFaceGAN's smile direction (plain and conditioned on mouth_open) in Z and in W,
and SeFa and GANSpace in W, each through `gancli.directions.fit.fit_directions` (what `gancli directions fit`
runs); then scores every direction of the run with two judges:

- **the independent judge** (gancli.classifiers.judge): one attribute network trained on faces drawn with
  `correlation=0` (smile and open mouth independent) from data seed 977 and network seed 7, which neither the
  generator, its training data nor the classifier the directions were fitted with ever used, so it cannot share
  the smile/mouth correlation it measures;
- **the fitting classifier**: the run's own (trained on the run's correlated faces), reported beside it.

Writes docs/w_directions.json, docs/w_directions.md and strips in docs/images/w_directions/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gancli.classifiers.judge import JUDGE_DATA, JUDGE_SETTINGS, faces_judge  # noqa: E402
from gancli.directions.context import load_classifier_for, open_run  # noqa: E402
from gancli.directions.editing import along_saved  # noqa: E402
from gancli.directions.fit import fit_directions  # noqa: E402
from gancli.directions.scoring import score_edit  # noqa: E402
from gancli.engine.images import save_samples  # noqa: E402
from gancli.plugins import get_registry  # noqa: E402

FITS = [("interfacegan", "smiling", (), {}, "z"), ("interfacegan", "smiling", ("mouth_open",), {}, "z"),
        ("interfacegan", "smiling", (), {}, "w"), ("interfacegan", "smiling", ("mouth_open",), {}, "w"),
        ("interfacegan", "smiling", ("mouth_open", "eyeglasses", "hat"), {}, "w"),
        ("interfacegan", "mouth_open", ("smiling",), {}, "w"), ("interfacegan", "eyeglasses", (), {}, "w"),
        ("interfacegan", "hat", (), {}, "w"), ("sefa", None, (), {"k": 5}, "w"), ("pca", None, (), {"k": 5}, "w")]
STRIPS = ("smiling", "smiling-cond-mouth_open", "smiling@w", "smiling-cond-mouth_open@w", "sefa-0@w", "sefa-1@w",
          "pca-0@w")
OUT_JSON = os.path.join(ROOT, "docs", "w_directions.json")
OUT_MD = os.path.join(ROOT, "docs", "w_directions.md")
IMAGES = os.path.join(ROOT, "docs", "images", "w_directions")


def score_all(context, judges: dict, n: int, seed: int) -> list:
    vectors, meta = context.directions()
    records = meta.get("directions", {})
    rows = []
    for name, vector in vectors.items():
        space = meta["spaces"][name]
        attribute = records.get(name, {}).get("attribute")
        started = time.perf_counter()

        def make_edit(z, strengths, name=name, vector=vector, space=space, sign=1.0):
            return along_saved(context, name, vector, space, z, [sign * s for s in strengths])

        row = {"name": name, "space": space, "method": records.get(name, {}).get("method"), "attribute": attribute}
        if attribute is None:  # unsupervised: the attribute it moves most by the independent judge, oriented
            first = score_edit(context, judges["independent"], name, None, make_edit, n, seed=seed)
            attribute = max(first.change, key=first.change.get)
            sign = 1.0 if first.signed[attribute] >= 0 else -1.0
            row["attribute"], row["unsupervised_match"] = attribute, attribute

            def make_edit(z, strengths, name=name, vector=vector, space=space, sign=sign):  # noqa: F811
                return along_saved(context, name, vector, space, z, [sign * s for s in strengths])
        for who, clf in judges.items():
            row[who] = score_edit(context, clf, name, row["attribute"], make_edit, n, seed=seed).as_json()
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        print(f"{name:<40} {space:<3} success {row['independent']['success']:.3f} drift "
              f"{row['independent']['drift']:.3f} (fitting: {row['fitting']['success']:.3f}, "
              f"{row['fitting']['drift']:.3f})", flush=True)
    return rows


def strength_curve(context, judge, names, strengths, n: int, seed: int) -> list:
    """Success and drift by ``judge`` of each named direction at each strength, and the standard deviation of
    sampled latents along the direction in units of the space's (so a strength reads as spreads along it)."""
    vectors, meta = context.directions()
    records = meta.get("directions", {})
    rows = []
    for name in names:
        space, vector = meta["spaces"][name], vectors[name]
        latents = context.spaces.sample(4000, seed + 1, space)
        spread = float((latents - latents.mean(0)).reshape(len(latents), -1).matmul(vector.flatten()).std())
        row = {"name": name, "space": space, "spread": round(spread / context.spaces.scale(space), 3), "points": []}
        for strength in strengths:
            score = score_edit(context, judge, name, records[name]["attribute"],
                               lambda z, s, name=name: along_saved(context, name, vectors[name], space, z, s),
                               n, strength, seed)
            row["points"].append({"strength": strength, "success": score.success, "drift": score.drift})
            print(f"{name:<40} strength {strength:g}: success {score.success:.3f} drift {score.drift:.3f}", flush=True)
        rows.append(row)
    return rows


def strips(context, seed: int) -> list:
    vectors, meta = context.directions()
    os.makedirs(IMAGES, exist_ok=True)
    z = context.spaces.sample_z(5, seed)
    strengths = [-3, -2, -1, 0, 1, 2, 3]
    written = []
    for name in STRIPS:
        if name in vectors:
            edit = along_saved(context, name, vectors[name], meta["spaces"][name], z, strengths)
            path = os.path.join(IMAGES, f"{name.replace('@', '-at-').replace('+', 'plus')}.png")
            save_samples(edit.images(context), path, "image", nrow=len(strengths))
            written.append((name, os.path.relpath(path, os.path.dirname(OUT_MD))))
    return written


def render(result: dict) -> None:
    judge = result["judge"]
    lines = ["# Directions in W against directions in Z", "",
             f"Written by `{result.get('command', 'python bench/w_directions.py ' + result['run'])}` (the generator at step {result['step']:,}; "
             f"{result['n']} latents from seed {result['seed']}, strength ±3 in units of each space's standard "
             "deviation, PROTOCOLS.md section 4). Directions were fitted by `gancli directions fit` with the run's "
             "own attribute classifier; they are scored by the **independent judge**, one network trained on faces "
             f"drawn with correlation 0 (data seed {JUDGE_DATA['seed']}, network seed {JUDGE_SETTINGS.seed}; "
             "held-out accuracy " + ", ".join(f"{k} {v:.1%}" for k, v in (judge["accuracy_per_name"] or {}).items())
             + "), and by the fitting classifier beside it.", "",
             "| direction | space | attribute | success | drift | success, fitting clf | drift, fitting clf | "
             "Δ smiling | Δ mouth_open | Δ eyeglasses | Δ hat |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["rows"]:
        ind, fit = row["independent"], row["fitting"]
        change = ind["change"]
        lines.append(f"| {row['name']} | {row['space']} | {row['attribute']} | {ind['success']:.1%} | "
                     f"{ind['drift']:.3f} | {fit['success']:.1%} | {fit['drift']:.3f} | "
                     + " | ".join(f"{change[a]:.3f}" for a in ("smiling", "mouth_open", "eyeglasses", "hat")) + " |")
    lines += ["", "The last four columns are the re-scoring matrix by the independent judge: the mean |Δp| of each "
              "attribute over both signs (the row's own attribute is the intended change).", "",
              "Goal (issue 18): the smile direction in W at ≥95% success with drift ≤0.05 by the independent judge.",
              ""]
    if result.get("curve"):
        lines += ["Success and drift against strength, by the independent judge (same latents). *Spread*: the "
                  "standard deviation of 4,000 sampled latents along the direction, in units of the space's "
                  "(the unit of strength), so strength / spread is how many of its own spreads a latent moves.", "",
                  "| direction | spread | " + " | ".join(f"strength {p['strength']:g}" for p in
                                                      result["curve"][0]["points"]) + " |",
                  "|---|---:|" + "---:|" * len(result["curve"][0]["points"])]
        lines += [f"| {row['name']} | {row['spread']:.2f} | " + " | ".join(
            f"{p['success']:.1%} / {p['drift']:.3f}" for p in row["points"]) + " |" for row in result["curve"]]
        lines += [""]
    for name, path in result["strips"]:
        lines += [f"`{name}` (rows: samples; columns: strength -3..3)", "", f"![{name}]({path})", ""]
    lines += ["Commands:", "", "```", *result["commands"], "```", ""]
    with open(OUT_MD, "w") as fh:
        fh.write("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("-n", type=int, default=300, help="latents scored per direction")
    parser.add_argument("--seed", type=int, default=12, help="seed of the scored latents (the finders use 0)")
    parser.add_argument("--no-fit", action="store_true", help="score the directions already in the run")
    parser.add_argument("--classifier", help="attribute classifier to fit with (default: the run's, or the dataset's)")
    parser.add_argument("--curve", default="smiling,smiling@w,smiling-cond-mouth_open@w",
                        help="directions scored at every --strengths too (comma-separated; empty: none)")
    parser.add_argument("--strengths", default="3,4.5,6,9", help="strengths of the curve")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "w_directions"),
                        help="where the figures go: OUT.json, OUT.md and strips in docs/images/NAME/")
    args = parser.parse_args()
    global OUT_JSON, OUT_MD, IMAGES
    OUT_JSON, OUT_MD = args.out + ".json", args.out + ".md"
    IMAGES = os.path.join(os.path.dirname(OUT_MD), "images", os.path.basename(args.out))
    registry = get_registry()
    context = open_run(args.run, registry)
    commands = []
    for method, attribute, condition_on, options, space in FITS:
        cond = "".join(f" --condition-on {c}" for c in condition_on)
        opts = "".join(f" --method-opt {k}={v}" for k, v in options.items())
        attr = f" --attribute {attribute}" if attribute else ""
        clf = f" --classifier {args.classifier}" if args.classifier else ""
        commands.append(f"gancli directions fit {args.run} --space {space} --method {method}{attr}{cond}{opts}{clf}")
        if args.no_fit:  # fitted by an earlier run of this bench: the commands are still what made them
            continue
        started = time.perf_counter()
        fit_directions(context, registry, method, attribute, condition_on, options, args.classifier, space=space)
        commands[-1] += f"    # {time.perf_counter() - started:.0f} s"
        print(commands[-1], flush=True)
    judges = {"independent": faces_judge(registry)[0], "fitting": load_classifier_for(context, registry)}
    rows = score_all(context, judges, args.n, args.seed)
    command = "python bench/w_directions.py " + " ".join(sys.argv[1:])
    commands.append(command)
    result = {"command": command, "run": args.run, "step": context.meta.get("step"), "n": args.n, "seed": args.seed, "rows": rows,
              "judge": {"data": JUDGE_DATA, "seed": JUDGE_SETTINGS.seed,
                        "accuracy_per_name": judges["independent"].info.get("accuracy_per_name")},
              "curve": strength_curve(context, judges["independent"], [c for c in args.curve.split(",") if c],
                                      [float(v) for v in args.strengths.split(",")], args.n, args.seed),
              "strips": strips(context, args.seed), "commands": commands}
    with open(OUT_JSON, "w") as fh:
        json.dump(result, fh, indent=2)
    render(result)
    print(f"wrote {OUT_MD}", file=sys.stderr)


if __name__ == "__main__":
    main()
