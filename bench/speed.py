"""Training speed of `gancli train` against the plain PyTorch loop of the course, side by side in one process.

1. Throughput: images per second through the discriminator for dcgan + bce and dcgan + wgan-gp at the course's
   settings (batch 128, lr 2e-4, betas 0.5/0.999; wgan-gp: 5 critic steps, lambda 10). The plain loop and each
   gancli setting train the same networks (same initial weights) on the same digits; they take turns for
   --steps steps each within every repeat, so load from other processes hits all of them alike. Figures are
   medians over --repeats, and ratios are taken within a repeat.
2. Time to quality: the plain loop and gancli train in turns of --chunk seconds, each for --budget seconds of
   its own training time; every turn ends with the Fréchet distance of `gancli evaluate --metrics fid`
   (gancli's digits classifier, 898 samples, clock stopped). The threshold comes from the plain loop's own
   curve: the worst distance among its last three evaluations, a level it has firmly reached.
3. The physical limit: FLOPs per step counted with torch's FLOP formulas (forward, backward and the penalty's
   double backward), divided by the measured step time, against a timed 2048x2048 matmul on one thread.
4. Start-up: wall time of `gancli --help` and `gancli list losses` (whole process), median of --repeats.

    python bench/speed.py [--steps 30] [--repeats 3] [--budget 200] [--chunk 20] [--json docs/performance.json]
    python bench/speed.py --parts quality --quality-losses bce --quality-setting gancli     one part only

Everything runs on one thread (torch.set_num_threads(1)): the machine this was written on is shared.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BATCH, Z_DIM, LR, BETAS, LAMBDA = 128, 64, 2e-4, (0.5, 0.999), 10.0
SETTINGS = {  # name -> gancli train flags (as TrainConfig values)
    "gancli": {},  # the default, --precision auto: bf16 where the CPU has bf16 instructions, fp32 elsewhere
    "gancli --precision fp32": {"precision": "fp32"},
    "gancli --precision bf16": {"precision": "bf16"},
    "gancli --precision fp32 --compile": {"precision": "fp32", "compile": True},
    "gancli --precision bf16 --compile": {"precision": "bf16", "compile": True},
}


# ---- the plain loop -------------------------------------------------------------------------------------
class PlainLoop:
    """The course's training loop, as written in its notebooks: a DataLoader over the images, new noise and a
    generator forward (with autograd) for every critic step and again for the generator step, ``.item()`` on
    every loss, default Adam. For wgan-gp the course's critic steps reuse the batch of real images."""

    def __init__(self, G, D, x, loss: str):
        from torch.utils.data import DataLoader, TensorDataset

        self.G, self.D, self.loss = G, D, loss
        self.n_critic = 5 if loss == "wgan-gp" else 1
        self.gen_opt = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
        self.disc_opt = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
        self.criterion = torch.nn.BCEWithLogitsLoss()
        self.loader = DataLoader(TensorDataset(x), batch_size=BATCH, shuffle=True, drop_last=True)
        self.batches = iter(())
        self.step = 0

    def _real(self):
        try:
            return next(self.batches)[0]
        except StopIteration:
            self.batches = iter(self.loader)
            return next(self.batches)[0]

    def train_step(self):
        G, D = self.G, self.D
        real = self._real()
        for _ in range(self.n_critic):
            self.disc_opt.zero_grad()
            fake = G(torch.randn(len(real), Z_DIM))
            if self.loss == "wgan-gp":
                crit_fake_pred, crit_real_pred = D(fake.detach()), D(real)
                epsilon = torch.rand(len(real), 1, 1, 1, requires_grad=True)
                mixed_images = real * epsilon + fake.detach() * (1 - epsilon)
                mixed_scores = D(mixed_images)
                gradient = torch.autograd.grad(inputs=mixed_images, outputs=mixed_scores,
                                               grad_outputs=torch.ones_like(mixed_scores),
                                               create_graph=True, retain_graph=True)[0]
                gp = ((gradient.view(len(gradient), -1).norm(2, dim=1) - 1) ** 2).mean()
                disc_loss = crit_fake_pred.mean() - crit_real_pred.mean() + LAMBDA * gp
            else:
                disc_fake_pred, disc_real_pred = D(fake.detach()), D(real)
                disc_loss = (self.criterion(disc_fake_pred, torch.zeros_like(disc_fake_pred))
                             + self.criterion(disc_real_pred, torch.ones_like(disc_real_pred))) / 2
            disc_loss.item()
            disc_loss.backward(retain_graph=True)
            self.disc_opt.step()
        self.gen_opt.zero_grad()
        disc_fake_pred = D(G(torch.randn(len(real), Z_DIM)))
        if self.loss == "wgan-gp":
            gen_loss = -disc_fake_pred.mean()
        else:
            gen_loss = self.criterion(disc_fake_pred, torch.ones_like(disc_fake_pred))
        gen_loss.backward()
        self.gen_opt.step()
        gen_loss.item()
        self.step += 1

    def train(self, steps: int):
        self.G.train(), self.D.train()
        for _ in range(steps):
            self.train_step()

    @property
    def generator(self):
        return self.G


class GancliLoop:
    """`gancli train` in this process: the engine's Trainer and its own loop (logging, health checks, sample
    grids and checkpoints at the default intervals), continued ``steps`` at a time."""

    def __init__(self, loss: str, settings: dict, folder: str):
        from gancli.engine.config import build_config
        from gancli.engine.plan import make_plan
        from gancli.engine.trainer import Trainer
        from gancli.plugins import get_registry

        config = build_config({"loss": loss, "device": "cpu", "steps": 0, **settings})
        self.plan = make_plan(config, get_registry())
        run_dir = tempfile.mkdtemp(dir=folder)
        self.trainer = Trainer(self.plan, run_dir)
        self.n_critic = self.plan.n_critic
        self.initial = copy.deepcopy(self.trainer.G), copy.deepcopy(self.trainer.D)

    def train(self, steps: int):
        self.plan.config.steps = self.trainer.step + steps
        self.trainer.run()

    @property
    def generator(self):
        return self.trainer.G


def plain_like(gancli: GancliLoop, loss: str) -> PlainLoop:
    """The plain loop on copies of gancli's networks as initialised (fp32, default memory layout)."""
    G, D = (copy.deepcopy(net).to(memory_format=torch.contiguous_format) for net in gancli.initial)
    return PlainLoop(G, D, gancli.trainer.data.x, loss)


# ---- 1. throughput ----------------------------------------------------------------------------------------
def throughput(loss: str, steps: int, repeats: int, settings: list, folder: str) -> dict:
    loops = {name: GancliLoop(loss, SETTINGS[name], folder) for name in settings}
    loops = {"plain loop": plain_like(loops[settings[0]], loss), **loops}
    warm = {}
    for name, loop in loops.items():  # first steps: oneDNN primitives, torch.compile
        start = time.perf_counter()
        loop.train(2)
        warm[name] = round(time.perf_counter() - start, 1)
    rates = {name: [] for name in loops}
    for repeat in range(repeats):
        for name, loop in loops.items():
            start = time.perf_counter()
            loop.train(steps)
            rates[name].append(steps * loop.n_critic * BATCH / (time.perf_counter() - start))
        print(f"  {loss} repeat {repeat + 1}: " + ", ".join(f"{n} {r[-1]:.0f}" for n, r in rates.items()),
              file=sys.stderr, flush=True)
    base = rates["plain loop"]
    return {name: {"images_per_s": round(statistics.median(r)), "runs": [round(v) for v in r],
                   "ratio": round(statistics.median([v / b for v, b in zip(r, base)]), 3),
                   "first_two_steps_s": warm[name]} for name, r in rates.items()}


# ---- 2. time to quality -----------------------------------------------------------------------------------
class FrechetJudge:
    """`gancli evaluate --metrics fid` on a generator in memory: gancli's digits classifier, 898 samples."""

    def __init__(self):
        from gancli.components import DataSpec
        from gancli.metrics.evaluate import EvalRequest, Evaluator
        from gancli.metrics.sources import SampleSource
        from gancli.plugins import get_registry

        self.spec = DataSpec(kind="image", shape=(1, 28, 28), class_names=tuple(str(i) for i in range(10)))
        self.SampleSource = SampleSource
        self.generator = None
        self.evaluator = Evaluator(get_registry(), EvalRequest(metrics=["fid"]), self._source(), say=lambda *_: None)

    def _source(self):
        def generate(z, labels):
            with torch.inference_mode():
                return self.generator(z)

        return self.SampleSource("generator in training", self.spec, Z_DIM, 0, generate,
                                 data={"name": "digits", "options": {"size": 28, "fraction": 1.0, "subset_seed": 0}})

    def __call__(self, G) -> float:
        self.generator = G
        G.eval()
        try:
            return self.evaluator.score(self._source())["values"]["fid"]
        finally:
            G.train()


def time_to_quality(loss: str, budget: float, chunk: float, setting: str, folder: str, judge) -> dict:
    gancli = GancliLoop(loss, SETTINGS[setting], folder)
    contestants = {"plain loop": plain_like(gancli, loss), setting: gancli}
    curves = {name: [] for name in contestants}  # (training seconds, step, fid)
    clock = {name: 0.0 for name in contestants}
    per_step = {name: None for name in contestants}
    while min(clock.values()) < budget:
        for name, loop in contestants.items():
            if clock[name] >= budget:
                continue
            steps = 1 if per_step[name] is None else max(1, round(min(chunk, budget - clock[name]) / per_step[name]))
            start = time.perf_counter()
            loop.train(steps)
            spent = time.perf_counter() - start
            clock[name] += spent
            per_step[name] = spent / steps
            step = loop.step if isinstance(loop, PlainLoop) else loop.trainer.step
            curves[name].append((round(clock[name], 1), step, round(judge(loop.generator), 3)))
            print(f"  {loss} {name}: {clock[name]:.0f} s, step {step}, FD {curves[name][-1][2]}",
                  file=sys.stderr, flush=True)
    threshold = max(fid for _, _, fid in curves["plain loop"][-3:])
    reached = {name: next((t for t, _, fid in curve if fid <= threshold), None) for name, curve in curves.items()}
    return {"threshold": threshold, "seconds_to_threshold": reached, "curves": curves, "budget_s": budget,
            "final_fid": {name: curve[-1][2] for name, curve in curves.items()}}


# ---- 3. the physical limit --------------------------------------------------------------------------------
def matmul_peak(dtype) -> float:
    a, b = torch.randn(2048, 2048, dtype=dtype), torch.randn(2048, 2048, dtype=dtype)
    a @ b
    times = []
    for _ in range(7):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * 2048 ** 3 / min(times)


def flops_per_step(loop) -> float:
    """FLOPs of one training step by torch's own per-operator formulas. torch's FlopCounterMode cannot be used:
    its module hooks refuse the gradient penalty's autograd.grad; a dispatch mode sees every operator."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Counter(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                Counter.total += formula(*args, **kwargs, out_val=out)
            return out

    from gancli.engine.health import StepMonitor

    trainer = loop.trainer
    monitor = StepMonitor(trainer.device, trainer.world)
    trainer.train_step(False, monitor)  # outside the counter: first-call set-up
    with Counter():
        trainer.train_step(False, monitor)  # one step of the trainer alone (no sample grids or checkpoints)
    return Counter.total


def achieved(result: dict) -> dict:
    """GFLOP/s each setting reached (counted FLOPs per step x steps per second) and its share of the peak of
    the precision it computes in."""
    out = {}
    for loss, rows in result["throughput"].items():
        n_critic = result["settings"]["n_critic"][loss]
        for name, row in rows.items():
            gflops = result["gflop_per_step"][loss] * row["images_per_s"] / (BATCH * n_critic)
            peak = result["matmul_peak_gflops"]["bfloat16" if "bf16" in name else "float32"]
            out.setdefault(loss, {})[name] = {"gflops": round(gflops, 1), "share_of_peak": round(gflops / peak, 3)}
    return out


# ---- 4. start-up ------------------------------------------------------------------------------------------
def startup(repeats: int) -> dict:
    gancli = os.path.join(os.path.dirname(sys.executable), "gancli")
    commands = {"gancli --help": [gancli, "--help"], "gancli list losses": [gancli, "list", "losses"],
                "python -c pass (floor)": [sys.executable, "-c", "pass"]}
    times = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - start)
    return {name: {"median_s": round(statistics.median(t), 3), "runs": [round(v, 3) for v in t]}
            for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="generator steps per turn for bce (wgan-gp: a fifth)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=200.0, help="training seconds per contestant (quality)")
    parser.add_argument("--chunk", type=float, default=20.0, help="training seconds per turn (quality)")
    parser.add_argument("--parts", default="startup,peak,throughput,quality",
                        help="comma-separated parts to run: startup, peak, throughput, quality")
    parser.add_argument("--quality-losses", default="bce,wgan-gp")
    parser.add_argument("--quality-setting", default="gancli --precision bf16", choices=list(SETTINGS),
                        help="the gancli setting raced against the plain loop for quality")
    parser.add_argument("--json", default=os.path.join(ROOT, "docs", "performance.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    parts = args.parts.split(",")
    result = json.load(open(args.json)) if os.path.isfile(args.json) else {}
    result.update({"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, "
                   f"{os.cpu_count()} CPU cores (shared), torch {torch.__version__}, 1 thread"})
    folder = tempfile.mkdtemp(prefix="gancli-speed-")
    if "startup" in parts:
        result["startup"] = startup(max(args.repeats, 7))
        print(json.dumps(result["startup"]), file=sys.stderr)
    if "peak" in parts:
        result["matmul_peak_gflops"] = {"float32": round(matmul_peak(torch.float32) / 1e9, 1),
                                        "bfloat16": round(matmul_peak(torch.bfloat16) / 1e9, 1)}
        print(json.dumps(result["matmul_peak_gflops"]), file=sys.stderr)
    if "throughput" in parts:
        result["throughput"], result["gflop_per_step"] = {}, {}
        for loss, steps in (("bce", args.steps), ("wgan-gp", max(1, args.steps // 5))):
            result["throughput"][loss] = throughput(loss, steps, args.repeats, list(SETTINGS), folder)
            probe = GancliLoop(loss, {}, folder)
            result["gflop_per_step"][loss] = round(flops_per_step(probe) / 1e9, 2)
        result["settings"] = {"batch_size": BATCH, "lr": LR, "betas": BETAS, "n_critic": {"bce": 1, "wgan-gp": 5},
                              "lambda": LAMBDA, "steps_per_turn": {"bce": args.steps,
                                                                   "wgan-gp": max(1, args.steps // 5)},
                              "repeats": args.repeats}
    if "throughput" in result and "matmul_peak_gflops" in result:
        result["achieved_gflops"] = achieved(result)
    if "quality" in parts:
        judge = FrechetJudge()
        result.setdefault("time_to_quality", {})
        for loss in args.quality_losses.split(","):
            result["time_to_quality"][f"{loss}: {args.quality_setting}"] = time_to_quality(
                loss, args.budget, args.chunk, args.quality_setting, folder, judge)
            json.dump(result, open(args.json, "w"), indent=1)
    json.dump(result, open(args.json, "w"), indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "time_to_quality"}, indent=1))


if __name__ == "__main__":
    main()
