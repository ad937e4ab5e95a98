"""Controllable generation on faces, measured by PROTOCOLS.md section 4; writes the tables into docs/.

    python bench/directions.py                        # the shipped pretrained:faces run
    python bench/directions.py --run runs/0007        # any faces run with fitted directions

Every direction saved in the run is scored, plus a random direction (the drift floor: what any move of
that length does) and the classifier-gradient per-latent editor (plain, with the penalty on mouth_open,
holding mouth_open or every other attribute, and holding the others then refining on the sphere). Scores
come from three classifiers: the run's own (the one the directions were fitted with) and two independent
judges trained from other seeds, so an edit that merely fools the fitting classifier shows up as a gap. Each
judge is a single network; the run's own classifier is gancli's default, an ensemble of networks from other
seeds. Unsupervised directions (sefa-k, pca-k) are scored against the attribute they change most, oriented so
that positive strengths increase it.

Outputs: docs/controllable.json, the results section of docs/controllable.md (between the markers) and
edit strips in docs/images/controllable/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gancli.classifiers import TrainSettings, attribute_classifier  # noqa: E402
from gancli.components import DirectionInputs  # noqa: E402
from gancli.data.faces import load_faces  # noqa: E402
from gancli.directions.context import load_classifier_for, open_run  # noqa: E402
from gancli.directions.editing import Edit, along_direction  # noqa: E402
from gancli.directions.methods import sample_latents  # noqa: E402
from gancli.directions.scoring import score_edit  # noqa: E402
from gancli.engine.images import save_samples  # noqa: E402
from gancli.plugins import get_registry  # noqa: E402

DOC = os.path.join(ROOT, "docs", "controllable.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"
REFINE = 40  # Adam steps on the sphere after the held walk (the finder's refine option)
STRIPS = ("smiling", "smiling-cond-mouth_open", "smiling-gradient", "eyeglasses", "hat", "sefa-0", "pca-0")


def judge(registry, data: dict, seed: int):
    """One attribute network trained from another seed than the run's ensemble: a second opinion on every edit."""
    clf, _, _ = attribute_classifier(registry, data["name"], data.get("options", {}),
                                     settings=TrainSettings(seed=seed))
    return clf


def smile_editor(context, registry, classifier, condition=(), **options):
    """The classifier-gradient per-latent editor of smiling with finder ``options``, as move(z, strengths)."""
    finder = registry.get("direction_finder", "classifier-gradient").cls(**options)
    inputs = DirectionInputs(context.G, context.z_dim, classifier, "smiling", condition, device=context.device)
    return lambda z, strengths: finder.edit(inputs, z, strengths)


def movers(context, registry, vectors: dict, meta: dict, fitting_classifier):
    """(name, attribute, move(z, strengths), kind) for every saved direction and the per-latent editors."""
    records = meta.get("directions", {})
    for name, vector in vectors.items():
        attribute = records.get(name, {}).get("attribute")
        yield name, attribute, (lambda z, s, v=vector: along_direction(z, v, s)), records.get(name, {}).get("method")
    # A random unit direction: the drift any move of this length causes, the floor the others are read against.
    random = torch.nn.functional.normalize(sample_latents(1, context.z_dim, seed=12345)[0], dim=0)
    yield "random (baseline)", "smiling", (lambda z, s: along_direction(z, random, s)), "none"
    for label, condition, options in (("", (), {}), (", penalty on mouth_open", ("mouth_open",), {}),
                                      (", holding mouth_open", ("mouth_open",), {"hold": True}),
                                      (", holding the others", (), {"hold": True}),
                                      (", holding the others, refined", (), {"hold": True, "refine": REFINE})):
        yield (f"smiling (per-latent gradient{label})", "smiling",
               smile_editor(context, registry, fitting_classifier, condition, **options), "classifier-gradient editor")


def orient(score, move):
    """For an unsupervised direction: the attribute it changes most, with the sign that increases it."""
    attribute = max(score.change, key=score.change.get)
    sign = 1.0 if score.signed[attribute] >= 0 else -1.0
    return attribute, (lambda z, s: move(z, [sign * v for v in s]))


def walked_once(move):
    """``move`` remembering its last answer: every judge scores the same latents, so a walk is done once."""
    last = {}

    def remembered(z, strengths):
        key = (tuple(z.shape), float(z.sum()), tuple(strengths))
        if last.get("key") != key:
            last.update(key=key, moved=move(z, strengths))
        return last["moved"]
    return remembered


def measure(context, registry, judges: dict, n: int, seed: int) -> list:
    vectors, meta = context.directions()
    rows = []
    for name, attribute, move, method in movers(context, registry, vectors, meta, judges["fitting"]):
        started = time.perf_counter()
        oriented = None
        if attribute is None:
            first = score_edit(context.G, judges["fitting"], context.z_dim, name, None, move, n, seed=seed)
            attribute, move = orient(first, move)
            oriented = attribute
        row = {"name": name, "method": method, "attribute": attribute, "unsupervised_match": oriented}
        move = walked_once(move)
        for who, clf in judges.items():
            row[who] = score_edit(context.G, clf, context.z_dim, name, attribute, move, n, seed=seed).as_json()
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        print(f"{name:<48} success {row['judge']['success']:.3f} drift {row['judge']['drift']:.3f} "
              f"({row['seconds']} s)", flush=True)
    return rows


def strips(context, registry, fitting_classifier, out_dir: str, seed: int) -> list:
    vectors, _ = context.directions()
    written = []
    os.makedirs(out_dir, exist_ok=True)
    z = sample_latents(5, context.z_dim, seed)
    strengths = [-3, -2, -1, 0, 1, 2, 3]
    real = load_faces(32, 24, seed=0, correlation=0.6).x
    save_samples(real, os.path.join(out_dir, "real.png"), "image", nrow=12)
    written.append(os.path.join(out_dir, "real.png"))
    for name in STRIPS:
        if name not in vectors:
            continue
        edit = Edit(along_direction(z, vectors[name], strengths), strengths, name)
        path = os.path.join(out_dir, f"{name}.png")
        save_samples(edit.images(context), path, "image", nrow=len(strengths))
        written.append(path)
    # The per-latent editor that holds the other attributes and refines on the sphere, on the same latents.
    move = smile_editor(context, registry, fitting_classifier, hold=True, refine=REFINE)
    edit = Edit(move(z, strengths), strengths, "held and refined")
    path = os.path.join(out_dir, "smiling-held-refined.png")
    save_samples(edit.images(context), path, "image", nrow=len(strengths))
    return written + [path]


def pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def tables(result: dict) -> str:
    rows, names = result["rows"], result["attributes"]
    lines = ["Measured by `python bench/directions.py` "
             f"({result['samples']} latents from seed {result['seed']}, strength ±{result['strength']:g}, "
             f"run `{result['run']}`). Judge: an attribute classifier trained from another seed "
             f"(held-out accuracy {pct(result['judge_accuracy'])}); in brackets the classifier the directions were "
             f"fitted with and the gradient editors climb (an ensemble of {result['fitting_members']} networks, "
             "seeds 0, 1000, …).", "",
             f"The last column is a second judge's (seed {result['second_judge_seed']}) success / drift.", "",
             "| edit | method | attribute | success | drift (others) | Δ mouth_open | latent step | second judge |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        j, f, k = row["judge"], row["fitting"], row["second_judge"]
        attribute = row["attribute"] + (" (best match)" if row["unsupervised_match"] else "")
        lines.append(f"| `{row['name']}` | {row['method']} | {attribute} | {pct(j['success'])} ({pct(f['success'])}) "
                     f"| {j['drift']:.3f} ({f['drift']:.3f}) | {j['change'].get('mouth_open', 0):.3f} "
                     f"| {j['latent_step']:.2f} | {pct(k['success'])} / {k['drift']:.3f} |")
    lines += ["", "Re-scoring matrix (judge): mean |Δ probability| of each attribute (columns) when moving along each "
              "edit (rows) by ±3; the edit's own attribute in bold.", "",
              "| edit | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for row in rows:
        cells = [f"**{row['judge']['change'][a]:.3f}**" if a == row["attribute"] else f"{row['judge']['change'][a]:.3f}"
                 for a in names]
        lines.append(f"| `{row['name']}` | " + " | ".join(cells) + " |")
    lines += ["", "Goals: " + "; ".join(result["goals"]), ""]
    return "\n".join(lines)


def goals(rows: list) -> list:
    by_name = {row["name"]: row["judge"] for row in rows}
    notes = []
    smiles = [row for row in rows if row["attribute"] == "smiling" and not row["unsupervised_match"]
              and row["method"] != "none"]

    def met(row):
        return row["judge"]["success"] >= 0.9 and row["judge"]["drift"] <= 0.10

    # The smile edit to hold against the goal: the most successful that meets it, else the one drifting least.
    passing = [r for r in smiles if met(r)]
    best = (max(passing, key=lambda r: r["judge"]["success"]) if passing
            else min(smiles, key=lambda r: r["judge"]["drift"]))
    for row in [r for r in smiles if r["name"] == "smiling"] + [best]:
        s, second = row["judge"], row["second_judge"]
        notes.append(f"`{row['name']}` success {pct(s['success'])} (goal ≥ 90%), drift {s['drift']:.3f} "
                     f"(goal ≤ 0.10): {'met' if met(row) else 'missed'} (second judge: {pct(second['success'])}, "
                     f"{second['drift']:.3f})")
    per_latent = "smiling (per-latent gradient"
    for plain, conditional in (("smiling", "smiling-cond-mouth_open"),
                               ("smiling-gradient", "smiling-gradient-cond-mouth_open"),
                               (f"{per_latent})", f"{per_latent}, penalty on mouth_open)"),
                               (f"{per_latent})", f"{per_latent}, holding mouth_open)")):
        if plain in by_name and conditional in by_name:
            a, b = by_name[plain]["change"]["mouth_open"], by_name[conditional]["change"]["mouth_open"]
            ratio = b / a if a else float("nan")
            notes.append(f"`{conditional}` moves mouth_open {b:.3f} vs {a:.3f} unconditional (×{ratio:.2f}, "
                         f"goal ≤ ×0.5: {'met' if ratio <= 0.5 else 'missed'})")
    return notes


def write_doc(section: str) -> None:
    with open(DOC) as fh:
        text = fh.read()
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the markers {START} ... {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w") as fh:
        fh.write(f"{head}{START}\n{section}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="pretrained:faces")
    parser.add_argument("-n", type=int, default=500, help="latents scored per edit")
    parser.add_argument("--seed", type=int, default=1, help="seed of the scored latents (directions were fitted on 0)")
    parser.add_argument("--judge-seed", type=int, default=1, help="training seed of the independent judge")
    parser.add_argument("--second-judge-seed", type=int, default=2, help="training seed of a second judge")
    parser.add_argument("--no-docs", action="store_true", help="print and write JSON only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    registry = get_registry()
    context = open_run(args.run, registry)
    fitting = load_classifier_for(context, registry)
    other = judge(registry, context.meta["data"], args.judge_seed)
    second = judge(registry, context.meta["data"], args.second_judge_seed)
    rows = measure(context, registry, {"judge": other, "second_judge": second, "fitting": fitting}, args.n,
                   args.seed)
    result = {"run": args.run, "samples": args.n, "seed": args.seed, "strength": 3.0, "attributes": fitting.names,
              "judge_accuracy": other.accuracy, "judge_accuracy_per_name": other.info.get("accuracy_per_name"),
              "fitting_accuracy_per_name": fitting.info.get("accuracy_per_name"),
              "second_judge_seed": args.second_judge_seed, "fitting_members": fitting.info.get("members", 1),
              "rows": rows}
    result["goals"] = goals(rows)
    print("\n".join(result["goals"]))
    with open(os.path.join(ROOT, "docs", "controllable.json"), "w") as fh:
        json.dump(result, fh, indent=2)
    if not args.no_docs:
        strips(context, registry, fitting, os.path.join(ROOT, "docs", "images", "controllable"), seed=7)
        write_doc(tables(result))


if __name__ == "__main__":
    main()
