"""How fast a `mobcost view` page of about 500 nodes renders in headless Chromium, and how large it is (issue 24).

The network: a stem convolution and 125 residual bottlenecks (expand, depthwise, project, add: 4 rows each), 501
layers plus the input, 125 collapsible blocks. Timed in the browser from the start of navigation: `load` (the page
parsed, its script run), `drawn` (the first frame after load, so the SVG is laid out and painted), and inside the
page the time to collapse every block and to expand them again (the script places nodes and redraws edges). Each
figure is the best of --repeat fresh page loads. Also: the seconds Python takes to build the page, and its size,
with the largest shipped config's beside it. Needs /usr/bin/chromium.

    python bench/view_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from mobcost import analyze
from mobcost.language import builtin_models, load_spec, parse_spec
from mobcost.views.html_graph import page

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from chromium import Browser  # noqa: E402

SPEC = """
name: bench500
title: Bench 500
input: {resolution: 224, channels: 3}
layers:
  - {kind: conv, kernel: 3, stride: 2, out: 32}
  - {kind: bottleneck, t: 6, out: 32, n: 125, stride: 1}
"""

TIMING = """new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
  const nav = performance.getEntriesByType("navigation")[0], drawn = performance.now();
  const click = id => { const t = performance.now(); document.getElementById(id).click();
                        document.getElementById("svg").getBoundingClientRect(); return performance.now() - t; };
  done({load: nav.loadEventEnd, drawn, collapse: click("collapse"), expand: click("expand"),
        nodes: document.querySelectorAll(".node:not(.proxy)").length});
})))"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    analysis = analyze(parse_spec(SPEC))
    started = time.perf_counter()
    text = page(analysis)
    built = time.perf_counter() - started
    shipped = max((len(page(analyze(load_spec(path))).encode()), path.stem) for path in set(builtin_models().values()))
    with tempfile.TemporaryDirectory() as folder, Browser() as browser:
        path = Path(folder) / "bench500.html"
        path.write_text(text, encoding="utf-8")
        runs = []
        for _ in range(args.repeat):
            tab = browser.page()
            tab.open(path.as_uri())
            runs.append(tab.evaluate(TIMING))
            assert not tab.errors(), tab.errors()
            browser.send("Target.closeTarget", {"targetId": tab.send("Target.getTargetInfo")["targetInfo"]["targetId"]})
    best = {key: min(run[key] for run in runs) for key in ("load", "drawn", "collapse", "expand")}
    print(f"{len(analysis.rows)} layers, {runs[0]['nodes']} nodes drawn; page {len(text.encode()):,} bytes, "
          f"built in {built:.3f} s (Python)")
    print(f"largest shipped config: {shipped[1]}, {shipped[0]:,} bytes")
    print(f"best of {args.repeat} in headless Chromium: loaded {best['load']:.0f} ms, first frame drawn "
          f"{best['drawn']:.0f} ms after navigation start; collapse all {best['collapse']:.0f} ms, expand all "
          f"{best['expand']:.0f} ms")


if __name__ == "__main__":
    main()
