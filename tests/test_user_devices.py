"""A user's own device: `devices fit` held to published campaigns it was never fitted on, `--device PATH.yaml`
everywhere a device is taken, and the CSV and the device file read as untrusted input."""

import json
import os
import re
from pathlib import Path

import pytest

from mobcost.latency.device import devices, read_device
from mobcost.latency.estimate import estimate

HOSTED = "TFLite hosted_models.md (commit 0406598a), Pixel 3, Android 10, CPU 4 threads, float"
CAMPAIGN = Path(__file__).resolve().parent.parent / "bench" / "campaigns" / "tflite-hosted-pixel3-float.csv"
HOSTED_FLOAT = [(m, float(a), int(r), float(ms)) for m, a, r, ms, _ in
                (line.split(",") for line in CAMPAIGN.read_text(encoding="utf-8").splitlines()[1:])]
"""A campaign no shipped device is fitted to (bench/campaigns/README.md)."""


def _csv(path: Path, rows) -> Path:
    path.write_text("model,alpha,resolution,latency_ms,where\n" + "".join(
        f"{m},{a},{r},{ms},somewhere\n" for m, a, r, ms in rows), encoding="utf-8")
    return path


def _predict(device_file: Path, rows) -> list[float]:
    """|measured / estimated − 1| of each row, on the fitted device."""
    from mobcost.api import analyze

    dev = read_device(device_file)
    return [abs(ms / estimate(analyze(m, alpha=a, resolution=r), dev).ms - 1) for m, a, r, ms in rows]


@pytest.mark.parametrize("picks, base", [
    pytest.param([15, 5, 0, 16], [], id=HOSTED + ": V1 1.0_224, 0.5_160, 0.25_128, V2 1.0_224"),
    pytest.param([12, 10, 3, 16], ["--base", "pixel1"], id=HOSTED + ": V1 1.0_128, 0.75_192, 0.25_224, V2; base pixel1"),
])
def test_fit_predicts_a_campaign_never_fitted_on(mobcost, tmp_path, picks, base):
    """4 figures in, the campaign's 13 others predicted within 10% on average, and within the stated error."""
    pytest.importorskip("scipy")
    train = [HOSTED_FLOAT[i] for i in picks]
    test = [row for i, row in enumerate(HOSTED_FLOAT) if i not in picks]
    out = tmp_path / "pixel3-4threads.yaml"
    result = mobcost("devices", "fit", str(_csv(tmp_path / "mine.csv", train)), "-o", str(out), *base, "-f", "json")
    assert result.exit_code == 0, result.stderr
    stated = read_device(out).fitted.held_out.max_error
    assert json.loads(result.stdout)["stated_error"] == pytest.approx(100 * stated, abs=1e-3)
    errors = _predict(out, test)
    mean = sum(errors) / len(errors)
    assert mean <= 0.10 and mean <= stated


@pytest.mark.parametrize("device, picks, base", [
    pytest.param("pixel1", [1, 5, 20, 26], "pixel3", id="pixel1 (2018) campaign from 4 figures, the shape of pixel3"),
    pytest.param("pixel1-2019", [11, 16, 25, 29], "pixel1",
                 id="MobileNetV3 Table 9 (Pixel 1, 2019) from 4 figures, the shape of pixel1 (2018)"),
])
def test_fit_holds_out_a_shipped_campaign(tmp_path, device, picks, base):
    """A shipped campaign treated as a user's: 4 of its figures fitted on another device's shape, the rest predicted."""
    pytest.importorskip("scipy")
    from mobcost.latency.fit import fit_user, user_device_text

    figures = devices()[device].figures
    train = [figures[i] for i in picks]
    test = [(f.model, f.alpha, f.resolution, f.ms) for i, f in enumerate(figures) if i not in picks]
    out = tmp_path / "held.yaml"
    out.write_text(user_device_text("held", train, fit_user(train, devices()[base]), "held.csv"), encoding="utf-8")
    errors = _predict(out, test)
    mean = sum(errors) / len(errors)
    assert mean <= 0.10 and mean <= read_device(out).fitted.held_out.max_error


def test_fit_by_hand_three_rows_is_the_scaled_base(tmp_path):
    """Three networks whose latencies are exactly 2× pixel1's estimates: the fit is pixel1's shape × 2 (the prior
    pulls the overhead toward pixel1's own, which agrees), and every leave-one-out prediction is exact."""
    pytest.importorskip("scipy")
    from mobcost.latency.device import Figure, estimate_ms
    from mobcost.latency.fit import fit_user

    pixel1 = devices()["pixel1"]
    figures = [Figure(model=m, alpha=a, resolution=r, ms=1, source="x", label="x")
               for m, a, r in (("mobilenet_v1", 1.0, 224), ("mobilenet_v2", 0.5, 160), ("mnasnet_a1", 1.0, 128))]
    figures = [f.model_copy(update={"ms": 2 * estimate_ms(f, pixel1)}) for f in figures]
    result = fit_user(figures, pixel1)
    assert result.coefficients.vector() == pytest.approx([2 * v for v in pixel1.coefficients().vector()], rel=1e-6)
    assert result.loo_ms == pytest.approx([f.ms for f in figures], rel=1e-6)


def test_device_file_everywhere_a_device_is_taken(mobcost, tmp_path):
    pytest.importorskip("scipy")
    out = tmp_path / "phone.yaml"
    rows = [HOSTED_FLOAT[i] for i in (15, 5, 0, 16)]
    assert mobcost("devices", "fit", str(_csv(tmp_path / "m.csv", rows)), "-o", str(out)).exit_code == 0
    for args in (["latency", "v2"], ["table", "v2"], ["sweep", "v2", "--alpha", "1,0.5"], ["compare", "v1", "v2"],
                 ["fit", "v2", "--max-latency", "10ms"], ["devices", str(out)]):
        result = mobcost(*args, *([] if args[0] == "devices" else ["--device", str(out)]), "-f", "json")
        assert result.exit_code == 0, (args, result.stderr)
    estimate_ms = json.loads(mobcost("latency", "v1", "--device", str(out), "-f", "json").stdout)["estimate_ms"]
    assert {"ms": 24.0, "source": "m.csv", "label": "mobilenet_v1 α=1 224 (line 2)"} in json.loads(
        mobcost("latency", "v1", "--device", str(out), "-f", "json").stdout)["published"]
    assert 20 < estimate_ms < 30


def test_latency_with_res_as_typed(mobcost):
    """`--res 160` reaches the resolution check parsed (it raised a TypeError), and finds the README's 1.0_160."""
    result = mobcost("latency", "v2", "--res", "160", "--device", "pixel1", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert {"ms": 40.2, "source": "TF-slim MobileNetV2 README", "label": "mobilenet_v2_1.0_160"} in json.loads(
        result.stdout)["published"]


def test_fit_writes_only_where_named(mobcost, tmp_path):
    pytest.importorskip("scipy")
    csv = _csv(tmp_path / "m.csv", HOSTED_FLOAT[:3])
    out = tmp_path / "phone.yaml"
    out.write_text("mine", encoding="utf-8")
    for args, words in ((["-o", str(out)], "exists"), (["-o", str(tmp_path / "phone.txt")], "ends in .yaml"),
                        ([], "-o"), (["-o", str(csv)], "")):
        result = mobcost("devices", "fit", str(csv), *args)
        assert result.exit_code == 2 and words in result.stderr and "Traceback" not in result.output
    assert out.read_text(encoding="utf-8") == "mine"
    assert mobcost("devices", "fit", str(csv), "-o", str(out), "--force").exit_code == 0


# ---- untrusted input ------------------------------------------------------------------------------------------

HOSTILE_CSV = {
    "no header": ("mobilenet_v1,1.0,224,24\n", "expected the header"),
    "two rows": ("model,alpha,resolution,latency_ms\nmobilenet_v1,1,224,24\nmobilenet_v2,1,224,17\n", "at least 3"),
    "not a number": ("model,alpha,resolution,latency_ms\nmobilenet_v1,one,224,24\n", "line 2"),
    "arabic digits": ("model,alpha,resolution,latency_ms\nmobilenet_v1,1,٢٢٤,24\n", "line 2"),
    "huge exponent": ("model,alpha,resolution,latency_ms\nmobilenet_v1,1,224,1e999999999\n", "line 2"),
    "nan": ("model,alpha,resolution,latency_ms\nmobilenet_v1,1,224,nan\n", "line 2"),
    "negative": ("model,alpha,resolution,latency_ms\nmobilenet_v1,1,224,-4\n", "line 2"),
    "zero alpha": ("model,alpha,resolution,latency_ms\nmobilenet_v1,0,224,4\n", "line 2"),
    "huge resolution": ("model,alpha,resolution,latency_ms\nmobilenet_v1,1,99999999,4\n", "line 2"),
    "a path as model": ("model,alpha,resolution,latency_ms\n../../etc/passwd,1,224,4\n", "built-in model"),
    "a spec file as model": ("model,alpha,resolution,latency_ms\nconfigs/mobilenet_v2.yaml,1,224,4\n", "built-in"),
    "escapes": ("model,alpha,resolution,latency_ms\n\x1b[31mred,1,224,4\n", "built-in model"),
    "too many rows": ("model,alpha,resolution,latency_ms\n" + "mobilenet_v1,1,224,4\n" * 201, "at most 200"),
    "NUL": ("model,alpha,resolution,latency_ms\nmobilenet_v1,1,224,4\x00\n", "NUL"),
    "unclosed quote": ('model,alpha,resolution,latency_ms\n"mobilenet_v1,1,224,4\n', "CSV"),
}


@pytest.mark.parametrize("name", HOSTILE_CSV)
def test_hostile_csv_exits_2_located(mobcost, tmp_path, name):
    text, words = HOSTILE_CSV[name]
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8")
    result = mobcost("devices", "fit", str(path), "-o", str(tmp_path / "out.yaml"))
    assert result.exit_code == 2, result.output
    assert words in result.stderr and "Traceback" not in result.output and "\x1b" not in result.output
    assert not (tmp_path / "out.yaml").exists()


def test_csv_that_is_not_a_file(mobcost, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path, tmp_path / "missing.csv"):
        result = mobcost("devices", "fit", str(path), "-o", str(tmp_path / "out.yaml"))
        assert result.exit_code == 2 and "Traceback" not in result.output


GOOD = (Path(__file__).resolve().parent.parent / "mobcost" / "latency" / "devices" / "pixel3.yaml").read_text(
    encoding="utf-8")

HOSTILE_DEVICE = {
    "escape in title": (GOOD.replace("title: Pixel 3, TFLite float (2019)", 'title: "\\e[2J Pixel 3"'), "title"),
    "unknown key": (GOOD.replace("bytes_per_value: 4", "bytes_per_value: 4\nspeed: fast"), "speed"),
    "a class missing": (re.sub(r"\{conv: [^,]+, ", "{", GOOD), "ns_per_mac"),
    "infinite rate": (re.sub(r"us_per_op: .*", "us_per_op: .inf", GOOD), "us_per_op"),
    "a model that is a path": (GOOD.replace("model: mnasnet_a1", "model: ../configs/x.yaml"), "model"),
    "no fitted block": (GOOD.split("# ---- fitted")[0], "fitted"),
    "a list": ("- 1\n- 2\n", "expected a device"),
    "a repeated key": (GOOD.replace("bytes_per_value: 4", "bytes_per_value: 4\nbytes_per_value: 1"), "repeats"),
    "stated error of 100%": (re.sub(r"max_error: .*", "max_error: 1.5", GOOD), "max_error"),
    "a billion laughs": ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n", ""),
}


@pytest.mark.parametrize("name", HOSTILE_DEVICE)
def test_hostile_device_file_exits_2_located(mobcost, tmp_path, name):
    text, words = HOSTILE_DEVICE[name]
    assert name == "a billion laughs" or text != GOOD
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = mobcost("latency", "v2", "--device", str(path))
    assert result.exit_code == 2, result.output
    assert words in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.output and "\x1b" not in result.output


def test_shipped_device_file_read_as_a_user_file():
    """The shipped files pass the user's validation: the schema is one."""
    for path in (Path(__file__).resolve().parent.parent / "mobcost" / "latency" / "devices").glob("*.yaml"):
        assert read_device(path).name == path.stem


# ---- this machine ---------------------------------------------------------------------------------------------

def test_measure_prints_the_median_beside_the_estimate(mobcost):
    """--measure runs the exported network (no timing is asserted: speed lives in bench/calibrate_accuracy.py)."""
    pytest.importorskip("onnxruntime")
    result = mobcost("latency", "v3_small", "--res", "96", "--device", "pixel1", "--measure", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["measured_ms"] > 0 and data["measured"]["runs"] >= 30 and len(data["measured"]["round_medians_ms"]) == 2
    assert "Measured here" in mobcost("latency", "v3_small", "--res", "96", "--device", "pixel1", "--measure",
                                      "-f", "markdown").stdout


def test_measure_writes_no_file_it_was_not_asked_to(tmp_path):
    """onnxruntime's import writes a usage database (and a device id) under ~/.cache/Microsoft unless
    ORT_DISABLE_TELEMETRY is set before it: `latency --measure` left ~/.cache/Microsoft/DeveloperTools/.onnxruntime/
    onnxruntime.db behind. In a fresh process whose home and cache are an empty folder, nothing appears there."""
    import subprocess
    import sys

    pytest.importorskip("onnxruntime")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    done = subprocess.run([sys.executable, "-m", "mobcost", "latency", "v1@0.25_96", "--device", "pixel1", "--measure",
                           "-f", "json"], cwd=Path(__file__).parent.parent, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [p.relative_to(home) for p in home.rglob("*")] == []

def test_calibration_suite_layers_are_one_layer_networks():
    """Each single layer of the suite traces to the operator class it is there to time."""
    from mobcost.latency.calibrate import LAYERS, layer_analyses
    from mobcost.latency.model import ops

    classes = [{op.cls for op in ops(a, 4)} for a in layer_analyses()]
    assert len(classes) == len(LAYERS)
    assert classes[:2] == [{"conv"}, {"conv"}] and classes[2:4] == [{"dw"}, {"dw"}] and classes[4:6] == [{"pw"}] * 2
    assert classes[6] == {"fc"} and classes[7] == {"pw", "elementwise"}
