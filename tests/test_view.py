"""`mobcost view`: the HTML page as a document (escaping, the Content-Security-Policy, the layer table, the layout
on hand-made graphs), and the page in a real browser (headless Chromium, skipped where /usr/bin/chromium is
missing): no console error, a node per layer, a hover that shows the layer's exact Mult-Adds as `mobcost table
-f json` counts them, the totals, a screenshot kept in the test's tmp_path, nothing requested from the network."""

import base64
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mobcost.cli import app
from mobcost.language import builtin_models, load_spec
from mobcost.views.html_graph import layout, page

from chromium import CHROMIUM, Browser

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SPEC = f"""
name: hostile
title: "<script>alert(1)</script> & net"
input: {{resolution: 32, channels: 3}}
layers:
  - {{kind: conv, kernel: 3, stride: 2, out: 8, name: "{HOSTILE}"}}
  - {{kind: conv, kernel: 3, out: 8, name: "</script><script>alert(2)</script>\\u2028x",
     note: "<b>bold</b> &amp; <svg onload=alert(3)>"}}
  - {{kind: conv, kernel: 1, out: 4, name: "a\\"b'c<!--"}}
"""


def table_json(mobcost, *args) -> dict:
    result = mobcost("table", *args, "--layers", "-f", "json")
    assert result.exit_code == 0, result.stdout
    return json.loads(result.stdout)


def view(mobcost, tmp_path: Path, *args, name: str = "view.html") -> Path:
    out = tmp_path / name
    result = mobcost("view", *args, "-o", str(out))
    assert result.exit_code == 0, result.stdout + str(result.exception)
    return out


def script_data(text: str) -> str:
    return re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)[1]


# ---- the layout, on graphs small enough to place by hand -------------------------------------------------------

def test_a_chain_runs_down_one_column():
    assert layout([(), (0,), (1,), (2,)], ["backbone"] * 4) == ([0, 1, 2, 3], [0, 0, 0, 0])


def test_a_residual_add_stays_in_its_column():
    # input, conv a, conv b, add(b, input): the add reads b first, so it stays under b
    assert layout([(), (0,), (1,), (2, 0)], ["backbone"] * 4) == ([0, 1, 2, 3], [0, 0, 0, 0])


def test_branches_take_the_next_free_columns():
    # input; branch 1: one conv; branch 2: two convs; branch 3: one conv; concat(b1, b2, b3)
    reads = [(), (0,), (0,), (2,), (0,), (1, 3, 4)]
    assert layout(reads, ["backbone"] * 6) == ([0, 1, 1, 2, 1, 3], [0, 0, 1, 1, 2, 0])


def test_a_part_beside_the_backbone_starts_right_of_it():
    # backbone: input, c1, c2, c3; heads: h1 reads c1, h2 reads h1, h3 reads c2 (ranks 2, 3, 3)
    reads = [(), (0,), (1,), (2,), (1,), (4,), (2,)]
    parts = ["backbone"] * 4 + ["heads"] * 3
    assert layout(reads, parts) == ([0, 1, 2, 3, 2, 3, 3], [0, 0, 0, 0, 1, 1, 2])


# ---- the page as a document -----------------------------------------------------------------------------------

def test_hostile_names_are_text_and_the_data_cannot_end_its_script(tmp_path, mobcost):
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE_SPEC, encoding="utf-8")
    text = view(mobcost, tmp_path, str(spec)).read_text(encoding="utf-8")
    assert "<img" not in text and "<svg onload" not in text and "<b>bold" not in text
    assert html.escape(HOSTILE) in text
    assert text.count("<script") == 2  # the data and the page's own script, nothing from the spec
    data = script_data(text)
    assert not set("<>&\u2028\u2029") & set(data)
    assert HOSTILE in json.loads(data)["names"]


def test_the_policy_admits_only_the_pages_own_style_and_script(tmp_path, mobcost):
    text = view(mobcost, tmp_path, "v1").read_text(encoding="utf-8")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)[1]
    assert policy.startswith("default-src 'none';") and "unsafe" not in policy
    (style,) = re.findall(r"<style>(.*?)</style>", text, re.S)
    (script,) = re.findall(r"<script>(.*?)</script>", text, re.S)
    for inline, directive in ((style, "style-src"), (script, "script-src")):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    assert " style=" not in text  # a style attribute would need 'unsafe-inline'


def test_the_totals_and_every_row_read_without_javascript(tmp_path, mobcost):
    expected = table_json(mobcost, "ssdlite320_mobilenet_v3_large")
    text = view(mobcost, tmp_path, "ssdlite320_mobilenet_v3_large").read_text(encoding="utf-8")
    assert f'data-value="{expected["totals"]["macs"]}" id="total-macs"' in text
    assert f'data-value="{expected["totals"]["params"]}" id="total-params"' in text
    layers = text[text.index('<section id="layers">'):]
    for layer in expected["layers"]:
        assert f"<td>{html.escape(layer['name'])}</td>" in layers and f">{layer['macs']:,}</td>" in layers


@pytest.mark.parametrize("model", ["v1@0.5_160", "v1:shallow", "-"])
def test_every_model_form(tmp_path, mobcost, model):
    spec = (Path(__file__).parent.parent / "configs" / "mobilenet_v3_small.yaml").read_text(encoding="utf-8")
    out = tmp_path / "view.html"
    result = CliRunner().invoke(app, ["view", model, "-o", str(out)], input=spec)
    assert result.exit_code == 0, result.stdout
    expected = table_json(mobcost, "v3_small" if model == "-" else model)
    text = out.read_text(encoding="utf-8")
    assert f'data-value="{expected["totals"]["macs"]}" id="total-macs"' in text
    assert len(json.loads(script_data(text))["names"]) == len(expected["layers"]) + 1


RENAMED = """
name: {name}
title: Renamed
input: {{resolution: 32, channels: 3}}
layers:
  - {{kind: conv, kernel: 3, stride: 2, out: 8, name: {name}1}}
  - {{kind: pw, out: {out}, name: {name}2}}
"""


def test_a_diff_of_renamed_layers_shows_each_rows_before_and_after(tmp_path, mobcost):
    """`view A --diff B` where diff pairs the layers by structure and their names differ (an ONNX export against
    its config) raised KeyError: the row before was looked up by the name after. a2 is 8 → 4 channels on 16×16,
    b2 the same layer at 6: 8 * 4 * 16 * 16 Mult-Adds before, 8 * 6 * 16 * 16 after."""
    (tmp_path / "a.yaml").write_text(RENAMED.format(name="a", out=4), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(RENAMED.format(name="b", out=6), encoding="utf-8")
    out = view(mobcost, tmp_path, str(tmp_path / "a.yaml"), "--diff", str(tmp_path / "b.yaml"))
    data = json.loads(script_data(out.read_text(encoding="utf-8")))
    assert data["names"] == ["input", "b1", "b2"] and data["change"] == [None, "unchanged", "changed"]
    assert f"{3 * 3 * 3 * 8 * 16 * 16:,}" in data["cells"][1] and data["before"][1] is None
    assert f"{8 * 6 * 16 * 16:,}" in data["cells"][2] and f"{8 * 4 * 16 * 16:,}" in data["before"][2]

def test_an_existing_file_is_replaced_only_with_force(tmp_path, mobcost):
    out = view(mobcost, tmp_path, "v1")
    result = mobcost("view", "v2", "-o", str(out))
    assert result.exit_code == 2 and "--force" in result.stdout + result.stderr
    assert "MobileNet-224" in out.read_text(encoding="utf-8") and "MobileNetV2" not in out.read_text(encoding="utf-8")
    assert mobcost("view", "v2", "-o", str(out), "--force").exit_code == 0


def test_every_shipped_config_is_under_500_kB():
    sizes = {path.stem: len(page(_analysis(path)).encode()) for path in set(builtin_models().values())}
    assert max(sizes.values()) < 500_000, max(sizes.items(), key=lambda item: item[1])


def test_the_same_model_gives_the_same_file_whatever_the_hash_seed(tmp_path):
    """docs/view.md: "the same model always gives the same file"; the peak's tensors are named in execution order.
    SSDLite's peak is at bneck1 (t = 1, a residual): conv1's 160×160×16 output, kept for the add, and
    bneck1/project's, at fp16: 2 × 160 * 160 * 16 * 2 bytes."""
    pages = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}.html"
        subprocess.run([sys.executable, "-m", "mobcost", "view", "ssdlite320_mobilenet_v3_large", "-o", str(out)],
                       check=True, capture_output=True, cwd=Path(__file__).parent.parent,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]
    assert f"{2 * 160 * 160 * 16 * 2:,} bytes at fp16, while bneck1/dw … bneck1/project runs: conv1, bneck1/project " \
        "(" in pages[0].decode("utf-8")

def _analysis(path):
    from mobcost import analyze

    return analyze(load_spec(path))


# ---- in a real browser ------------------------------------------------------------------------------------------

browser_needed = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (Debian's chromium)")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    with Browser() as b:
        yield b


def opened(browser, path: Path):
    page_ = browser.page()
    page_.send("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 1000, "deviceScaleFactor": 1,
                                                      "mobile": False})
    page_.open(path.resolve().as_uri())
    assert page_.evaluate("document.body.classList.contains('ready')"), page_.errors()
    return page_


def hover(page_, selector: str) -> str:
    """Scroll the node into view, move the mouse to its middle and return the panel's text."""
    box = page_.evaluate(f"""(()=>{{const g=document.querySelector({json.dumps(selector)});
        g.scrollIntoView({{block:"center",inline:"center"}});const r=g.getBoundingClientRect();
        return [r.x+r.width/2,r.y+r.height/2]}})()""")
    page_.hover(*box)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = page_.evaluate("document.getElementById('panel').innerText")
        if "Hover over" not in text:
            return text
        time.sleep(0.02)
    return text


def node_selector(names: list[str], name: str) -> str:
    return f'.node[data-i="{names.index(name)}"]'


def check_page(browser, tmp_path: Path, out: Path, expected: dict, hovered: list[str]) -> None:
    page_ = opened(browser, out)
    names = page_.evaluate("JSON.parse(document.getElementById('data').textContent).names")
    drawn = page_.evaluate("[...document.querySelectorAll('.node:not(.proxy)')].map(g=>g.dataset.i)")
    assert names[1:] == [layer["name"] for layer in expected["layers"]] and len(drawn) == len(names)
    assert int(page_.evaluate("document.getElementById('total-macs').dataset.value")) == expected["totals"]["macs"]
    assert int(page_.evaluate("document.getElementById('total-params').dataset.value")) == expected["totals"]["params"]
    macs = {layer["name"]: layer["macs"] for layer in expected["layers"]}
    for name in hovered:
        text = hover(page_, node_selector(names, name))
        assert name in text and f"{macs[name]:,}" in text, (name, text)
    shot = tmp_path / f"{out.stem}.png"
    page_.screenshot(shot, full=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page_.errors() == []
    assert page_.requests() == [out.resolve().as_uri()]


def largest_and_last(expected: dict) -> list[str]:
    layers = expected["layers"]
    return [max(layers, key=lambda layer: layer["macs"])["name"], layers[0]["name"], layers[-1]["name"]]


@browser_needed
@pytest.mark.parametrize("model", ["v2", "ssdlite320_mobilenet_v3_large", "lraspp_mobilenet_v3_large"])
def test_a_model_in_the_browser(browser, tmp_path, mobcost, model):
    expected = table_json(mobcost, model)
    out = view(mobcost, tmp_path, model, name=f"{model}.html")
    check_page(browser, tmp_path, out, expected, largest_and_last(expected))


@browser_needed
def test_an_imported_onnx_model_in_the_browser(browser, tmp_path, mobcost):
    pytest.importorskip("onnx")
    from test_onnx_import import Graph

    g = Graph((1, 3, 32, 32))
    g.conv(3, 16, k=3, stride=2)
    g.op("Relu")
    x = g.last
    g.conv(16, 16, k=3)
    g.op("Relu")
    g.conv(16, 16, k=3)
    g.op("Add", [x, g.last])
    y = g.last
    a = g.conv(16, 8, k=1, pad=0, src=y)
    b = g.conv(16, 8, k=3, src=y)
    g.op("Concat", [a, b], axis=1)
    g.op("GlobalAveragePool")
    model = str(g.save(tmp_path / "small.onnx"))
    expected = table_json(mobcost, model)
    assert expected["totals"]["macs"] == (3 * 3 * 3 * 16 * 16 * 16 + 2 * 3 * 3 * 16 * 16 * 16 * 16
                                          + 16 * 8 * 16 * 16 + 3 * 3 * 16 * 8 * 16 * 16)
    out = view(mobcost, tmp_path, model, name="onnx.html")
    check_page(browser, tmp_path, out, expected, largest_and_last(expected))


@browser_needed
def test_the_convention_and_the_device_in_the_browser(browser, tmp_path, mobcost):
    expected = table_json(mobcost, "v2", "--convention", "torch")
    out = view(mobcost, tmp_path, "v2", "--convention", "torch", "--device", "pixel1", name="v2-torch.html")
    page_ = opened(browser, out)
    names = page_.evaluate("JSON.parse(document.getElementById('data').textContent).names")
    name = largest_and_last(expected)[0]
    text = hover(page_, node_selector(names, name))
    macs = next(layer["macs"] for layer in expected["layers"] if layer["name"] == name)
    assert "Mult-Adds (torch)" in text and f"{macs:,}" in text and "Latency (ms, est. pixel1)" in text
    page_.evaluate("""(()=>{const s=document.getElementById('metric');s.value='ms';
        s.dispatchEvent(new Event('change'))})()""")
    assert "estimated latency" in page_.evaluate("document.getElementById('legend').textContent")
    blocks = page_.evaluate("JSON.parse(document.getElementById('data').textContent).blocks.length")
    page_.evaluate("document.getElementById('collapse').click()")
    assert page_.evaluate("document.querySelectorAll('.node.proxy:not(.off)').length") == blocks > 0
    page_.evaluate("document.getElementById('expand').click()")
    assert page_.evaluate("document.querySelectorAll('.node:not(.off)').length") == len(names)
    assert page_.errors() == [] and page_.requests() == [out.resolve().as_uri()]


@browser_needed
def test_a_diff_marks_what_a_change_adds_removes_and_changes(browser, tmp_path, mobcost):
    result = mobcost("diff", "v1", "v1:shallow", "-f", "json")
    rows = json.loads(result.stdout)["rows"]
    out = view(mobcost, tmp_path, "v1", "--diff", "v1:shallow", name="diff.html")
    page_ = opened(browser, out)
    for kind in ("added", "removed", "changed"):
        marked = page_.evaluate(f"[...document.querySelectorAll('.node.{kind}:not(.proxy)')]"
                                ".map(g=>g.querySelector('title').textContent)")
        assert marked == [row["name"] for row in rows if row["change"] == kind]
    assert len([row for row in rows if row["change"] == "removed"]) == 10  # Table 5: five separable layers out
    assert page_.errors() == [] and page_.requests() == [out.resolve().as_uri()]


@browser_needed
def test_hostile_names_render_as_text_and_nothing_leaves_the_page(browser, tmp_path, mobcost):
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE_SPEC, encoding="utf-8")
    out = view(mobcost, tmp_path, str(spec), name="hostile.html")
    page_ = opened(browser, out)
    assert page_.evaluate("document.querySelectorAll('img, svg svg, [onerror], [onload]').length") == 0
    assert not page_.evaluate("[...document.querySelectorAll('b')].some(b => b.textContent === 'bold')")
    assert page_.evaluate("document.scripts.length") == 2
    assert page_.evaluate("document.title").startswith("mobcost view: 1.0 <script>alert(1)</script> & net")
    text = hover(page_, '.node[data-i="1"]')
    assert text.splitlines()[0] == HOSTILE
    page_.screenshot(tmp_path / "hostile.png", full=False)
    assert not page_.events("Page.javascriptDialogOpening")
    assert page_.errors() == [] and page_.requests() == [out.resolve().as_uri()]
