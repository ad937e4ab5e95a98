"""Inference speed of a trained generator through every backend, measured side by side in one run.

1. Samples per second of torch eager (inference_mode), TorchScript (torch.jit.trace), the torch.export
   program (.pt2) and onnxruntime, at batch 1, 64 and 256: each figure is the median of --repeats timings
   of about 0.25 s, the backends taking turns within every repeat so that load from other processes
   hits all of them alike.
2. Whole-process wall time of drawing 16 images into a PNG: `gancli sample RUN` (imports torch) against
   `gancli generate MODEL.onnx` (onnxruntime, numpy and Pillow), alternating, median of --repeats runs,
   with a bare `python -c pass` as the floor.

Results go to docs/inference.md (tables, the exact command, the machine).

    python bench/inference.py RUN [--threads 1] [--repeats 7] [--out docs/inference.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BATCHES = (1, 64, 256)
BACKENDS = ("torch eager", "TorchScript", "torch.export (.pt2)", "onnxruntime")
SLICE_S = 0.25


def load_backends(run: str, folder: str, threads: int) -> tuple[dict, dict, str]:
    """({backend name: call(batch) -> output}, checkpoint metadata, ONNX path), every export verified first."""
    import onnxruntime
    import torch

    from gancli.engine.models import load_generator
    from gancli.export import export_generator
    from gancli.export.quiet import quiet

    torch.set_num_threads(threads)
    paths = {"onnx": f"{folder}/g.onnx", "torchscript": f"{folder}/g.pt", "pt2": f"{folder}/g.pt2"}
    info, _ = export_generator(run, paths)
    G, meta = load_generator(run)
    with quiet():
        scripted = torch.jit.load(paths["torchscript"])
    exported = torch.export.load(paths["pt2"]).module()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(paths["onnx"], options, providers=["CPUExecutionProvider"])

    inputs = {}
    for batch in BATCHES:
        z = np.random.default_rng(batch).standard_normal((batch, info.z_dim), dtype=np.float32)
        labels = np.arange(batch, dtype=np.int64) % info.num_classes if info.num_classes else None
        torch_inputs = [torch.from_numpy(z)] + ([] if labels is None else [torch.from_numpy(labels)])
        feeds = {"z": z, **({} if labels is None else {"label": labels})}
        inputs[batch] = (torch_inputs, feeds)

    def torch_call(module):
        def call(batch):
            with torch.inference_mode():
                return module(*inputs[batch][0])
        return call

    backends = {"torch eager": torch_call(G), "TorchScript": torch_call(scripted),
                "torch.export (.pt2)": torch_call(exported),
                "onnxruntime": lambda batch: session.run(None, inputs[batch][1])}
    return backends, meta, paths["onnx"]


def throughput(backends: dict, repeats: int) -> dict:
    """{(backend, batch): median samples/s}."""
    iterations = {}
    for name, call in backends.items():
        for batch in BATCHES:
            for _ in range(3):  # warm-up: allocators, lazy initialisation, TorchScript's profiling runs
                call(batch)
            started = time.perf_counter()
            call(batch)
            iterations[name, batch] = max(1, round(SLICE_S / max(time.perf_counter() - started, 1e-6)))
    rates = {key: [] for key in iterations}
    names = list(backends)
    for r in range(repeats):
        for batch in BATCHES:
            for name in names[r % len(names):] + names[:r % len(names)]:  # rotate who goes first
                n = iterations[name, batch]
                started = time.perf_counter()
                for _ in range(n):
                    backends[name](batch)
                rates[name, batch].append(n * batch / (time.perf_counter() - started))
    return {key: statistics.median(values) for key, values in rates.items()}


def process_times(run: str, onnx_path: str, folder: str, threads: int, repeats: int) -> dict:
    """{label: (command as shown, [seconds])} of whole processes, alternating."""
    gancli = str(Path(sys.executable).with_name("gancli"))
    commands = {  # label: the command as shown, the command as run
        "interpreter floor": ("python -c pass", [sys.executable, "-c", "pass"]),
        "gancli sample (torch)": ("gancli sample RUN -n 16 -o sample.png",
                                  [gancli, "sample", run, "-n", "16", "-o", f"{folder}/sample.png"]),
        "gancli generate (onnxruntime)": ("gancli generate g.onnx -n 16 -o generate.png",
                                          [gancli, "generate", onnx_path, "-n", "16", "-o", f"{folder}/generate.png"]),
    }
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    times = {label: [] for label in commands}
    for _ in range(repeats + 1):
        for label, (_, command) in commands.items():
            started = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            times[label].append(time.perf_counter() - started)
    return {label: (commands[label][0], values[1:]) for label, values in times.items()}  # first round: cold caches


def machine(threads: int) -> list:
    import onnxruntime
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return [f"CPU: {cpu}, {os.cpu_count()} logical cores (load average at start {os.getloadavg()[0]:.2f}, "
            "shared with other processes)",
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, torch {torch.__version__}, "
            f"onnxruntime {onnxruntime.__version__}, numpy {np.__version__}",
            f"threads: {threads} (torch.set_num_threads, onnxruntime intra_op_num_threads, OMP_NUM_THREADS for the "
            "processes)"]


def report(meta: dict, rates: dict, processes: dict, command: str, lines: list, params: int) -> str:
    spec = meta["spec"]
    shape = "x".join(map(str, spec["shape"]))
    out = ["# Inference speed", "",
           f"Generated by `bench/inference.py` on {datetime.date.today().isoformat()}. Figures are medians of "
           "repeats taken side by side in one run on a shared machine: compare ratios, not absolute speeds "
           "across machines.", "",
           "Command:", "", "```", command, "```", "",
           "Machine:", "", *[f"- {line}" for line in lines], "",
           f"Generator: {meta['arch']['name']} {shape} ({spec['kind']}), z_dim {meta['z_dim']}, "
           f"{meta['num_classes']} classes, {params:,} parameters, trained with loss {meta['loss']['name']} "
           f"for {meta.get('step')} steps.", "",
           "## Samples per second", "",
           "| backend | " + " | ".join(f"batch {b}" for b in BATCHES) + " | " +
           " | ".join(f"vs eager @ {b}" for b in BATCHES) + " |",
           "|---|" + "---:|" * (2 * len(BATCHES))]
    for name in BACKENDS:
        cells = [f"{rates[name, b]:,.0f}" for b in BATCHES]
        ratios = [f"{rates[name, b] / rates['torch eager', b]:.2f}x" for b in BATCHES]
        out.append(f"| {name} | " + " | ".join(cells + ratios) + " |")
    base = statistics.median(processes["gancli sample (torch)"][1])
    out += ["", "## Whole process: 16 images into a PNG", "",
            "| command | median s | min s | speed-up vs gancli sample |", "|---|---:|---:|---:|"]
    for label, (cmd, values) in processes.items():
        median = statistics.median(values)
        speedup = "" if label == "interpreter floor" else f"{base / median:.1f}x"
        out.append(f"| {label}: `{cmd}` | {median:.3f} | {min(values):.3f} | {speedup} |")
    ort = {b: rates["onnxruntime", b] / rates["torch eager", b] for b in BATCHES}
    generate = statistics.median(processes["gancli generate (onnxruntime)"][1])
    out += ["", "## Summary", "",
            f"- onnxruntime against torch eager: {ort[1]:.2f}x at batch 1, {ort[64]:.2f}x at batch 64, "
            f"{ort[256]:.2f}x at batch 256.",
            f"- `gancli generate` draws 16 images {base / generate:.1f}x quicker end to end than `gancli sample`: "
            "the torch-based path spends most of its time importing torch, while `gancli generate` imports "
            "onnxruntime, numpy and Pillow only.", ""]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory (or generator .safetensors) to measure")
    parser.add_argument("--threads", type=int, default=1, help="threads per backend and per process")
    parser.add_argument("--repeats", type=int, default=7, help="timings per figure (medians are reported)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "inference.md"))
    args = parser.parse_args()
    command = "python bench/inference.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = machine(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        backends, meta, onnx_path = load_backends(args.run, folder, args.threads)
        rates = throughput(backends, args.repeats)
        processes = process_times(args.run, onnx_path, folder, args.threads, args.repeats)
    from gancli.engine import checkpoint
    from gancli.engine.runs import generator_file

    params = sum(t.numel() for t in checkpoint.load(generator_file(args.run), prefix="G.")[0].values())
    text = report(meta, rates, processes, command, lines, params)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
