"""Time and peak memory of `mobcost import` on a 500 MB ONNX model, weights inline and as external data, each in a
fresh process, paired in the same run with `onnx.load` of the same file (the baseline: what reading the model
with the onnx package costs) and with a process that only imports onnx and mobcost (the start-up floor).

    python bench/onnx_import.py [runs]

The model is built with onnx.helper (in a child process, so that this one stays small): eight 3×3 convolutions whose
float32 weights total 496 MB (zeros: the bytes' values do not matter, only their number), saved once with the
weights inside the protobuf and once with them in an external file. Peak memory is the child's VmHWM (Linux).
"""

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = [512, 1024, 2048, 2048, 2048, 1024, 512, 256]  # 3×3 convs: 496 MB of float32 weights

# Each case runs in its own process and prints the seconds of the measured call (start-up excluded).
CASES = {
    "start-up only (import onnx, mobcost)": "import onnx, mobcost.importers.onnx; t = time.perf_counter()",
    "baseline: onnx.load, external off": "import onnx; t = time.perf_counter(); "
                                         "onnx.load(PATH, load_external_data=False)",
    "mobcost import (import_onnx)": "from mobcost.importers.onnx import import_onnx; import onnx; "
                                    "t = time.perf_counter(); import_onnx(PATH)",
}


def build(folder: str) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    nodes, weights, x, c = [], [], "x", 3
    for i, width in enumerate(WIDTHS):
        raw = np.zeros((width, c, 3, 3), dtype=np.float32).tobytes()
        weights.append(TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[width, c, 3, 3], raw_data=raw))
        nodes.append(helper.make_node("Conv", [x, f"w{i}"], [f"y{i}"], kernel_shape=[3, 3], pads=[1] * 4,
                                      name=f"conv{i}"))
        x, c = f"y{i}", width
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    print(f"weights: {sum(len(w.raw_data) for w in weights) / 1e6:,.1f} MB in {len(weights)} initializers")
    onnx.save(model, f"{folder}/inline.onnx")
    onnx.save(model, f"{folder}/external.onnx", save_as_external_data=True, location="external.bin")


PEAK = "print(next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM')))"


def run(code: str, path: Path) -> tuple[float, int]:
    """Seconds of the measured call, peak resident memory of the whole process in MB."""
    script = f"import time; PATH = {str(path)!r}; {code}; print(time.perf_counter() - t); {PEAK}"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    seconds, peak_kb = out.stdout.split()
    return float(seconds), int(peak_kb) // 1024


def main(runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, __file__, "--build", tmp], check=True, cwd=ROOT)
        paths = {"inline": Path(tmp) / "inline.onnx", "external": Path(tmp) / "external.onnx"}
        for kind, path in paths.items():
            print(f"\n{kind} weights: {path.name} is {path.stat().st_size / 1e6:,.1f} MB")
            samples = {name: [] for name in CASES}
            for _ in range(runs):  # interleaved, so that load on the machine hits every case alike
                for name, code in CASES.items():
                    samples[name].append(run(code, path))
            for name, values in samples.items():
                seconds = statistics.median(v[0] for v in values)
                print(f"  {name:38} median {seconds * 1000:8.1f} ms  peak {max(v[1] for v in values):6,d} MB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(sys.argv[2])
    else:
        main(*map(int, sys.argv[1:]))
