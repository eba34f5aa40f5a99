"""`mobcost view`: a network's graph and costs as one self-contained HTML page.

The page is a document first: its title, totals, counting and layer table are HTML, and the graph is an SVG laid
out here, in Python, so it reads (and diffs) the same with or without JavaScript. A short inline script adds what
needs a reader: the panel that shows a layer's row as `mobcost table --layers` prints it, the colour switch, blocks
collapsed to one node, the peak highlight. Nothing is fetched: a Content-Security-Policy of `default-src 'none'`
admits only the page's own style and script, by their hashes, and every name from a spec is escaped.

The layout is layered: a node's rank is one more than the largest rank it reads (the input is rank 0), so a graph
runs top to bottom; its column is the column of the first tensor it reads if that place is free, else the next free
one to the right, and a part (backbone, extras, heads) that runs beside an earlier one starts right of it.
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from mobcost.conventions import counting_words
from mobcost.delta import merged
from mobcost.memory import BYTES, peak_step
from mobcost.output import json_text, printable
from mobcost.table import exact, html
from mobcost.views.network import blocks, layer_table

if TYPE_CHECKING:
    from mobcost.delta import Diff
    from mobcost.latency.device import Device
    from mobcost.language import ParamCounting
    from mobcost.trace import Analysis, Row

STYLE = Path(__file__).with_name("html_graph.css").read_text(encoding="utf-8")
SCRIPT = Path(__file__).with_name("html_graph.js").read_text(encoding="utf-8")
WIDTH, HEIGHT, COLUMN, RANK, MARGIN = 136, 30, 164, 50, 36  # pixels: a node, a column's and a rank's pitch
METRICS = {"macs": "Mult-Adds", "params": "parameters", "bytes": "activation bytes", "ms": "estimated latency (ms)"}
CHANGES = {"added": "#7fc97f", "changed": "#fdc086", "removed": "#ffffff", "unchanged": "#eeeeee"}


def layout(reads: list[tuple[int, ...]], parts: list[str]) -> tuple[list[int], list[int]]:
    """Each node's rank and column; node i reads the nodes `reads[i]`, all before it (node 0 reads nothing)."""
    rank: list[int] = []
    for sources in reads:
        rank.append(1 + max((rank[j] for j in sources), default=-1))
    span: dict[str, tuple[int, int]] = {}
    for part, r in zip(parts, rank):
        low, high = span.get(part, (r, r))
        span[part] = (min(low, r), max(high, r))
    taken: set[tuple[int, int]] = set()
    column: list[int] = []
    right: dict[str, int] = {}  # the rightmost column each part placed so far
    base: dict[str, int] = {}
    for i, (sources, part) in enumerate(zip(reads, parts)):
        if part not in base:  # beside the earlier parts whose ranks it shares, else under them
            low, high = span[part]
            base[part] = max((right[p] + 1 for p in right if span[p][0] <= high and low <= span[p][1]), default=0)
        c = max(column[sources[0]] if sources else 0, base[part])
        while (rank[i], c) in taken:
            c += 1
        taken.add((rank[i], c))
        column.append(c)
        right[part] = max(right.get(part, 0), c)
    return rank, column


def edge_path(x1: float, y1: float, x2: float, y2: float, skip: bool) -> str:
    """An edge from a node's bottom (x1, y1) to another's top (x2, y2), as the page's script draws it too: a
    curve, or an arc beside the column for an edge that skips ranks in its own column (a residual)."""
    if skip:
        side = x1 + WIDTH / 2
        return (f"M{side:g} {y1 - HEIGHT / 2:g}C{side + 26:g} {y1:g},{side + 26:g} {y2:g},{side:g} "
                f"{y2 + HEIGHT / 2:g}")
    middle = (y1 + y2) / 2
    return f"M{x1:g} {y1:g}C{x1:g} {middle:g},{x2:g} {middle:g},{x2:g} {y2:g}"


def _colour(t: float) -> str:
    """A share scaled to [0, 1] as a colour from pale yellow to dark red (ColorBrewer YlOrRd)."""
    stops = [(255, 255, 204), (254, 217, 118), (253, 141, 60), (240, 59, 32)]
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    a, b = stops[i], stops[i + 1]
    return "#" + "".join(f"{round(x + (y - x) * (t - i)):02x}" for x, y in zip(a, b))


def _fills(values: list[float | None]) -> list[str]:
    """Colours by each value's share of the largest (square root, so small layers still show)."""
    top = max((v for v in values if v), default=0)
    return ["#ffffff" if v is None else _colour(math.sqrt(v / top) if top else 0.0) for v in values]


def _block_change(kinds: list[str]) -> str:
    """A block is added or removed if all its layers are, unchanged if all are, else changed."""
    return kinds[0] if len(set(kinds)) == 1 else "changed"


def _short(name: str, n: int = 20) -> str:
    return name if len(name) <= n else name[:8] + "…" + name[-(n - 9):]


def _shape(row: Row) -> str:
    shape = f"{row.output.h}×{row.output.w}×{row.output.c}"
    return f"{row.batch:,}×{shape}" if row.batch > 1 else shape


@dataclass
class _Graph:
    """The nodes in drawing order: node 0 is the input, then one per row (in a diff, the rows of both sides)."""

    names: list[str] = field(default_factory=lambda: ["input"])
    rows: list = field(default_factory=lambda: [None])
    reads: list = field(default_factory=lambda: [()])
    change: list = field(default_factory=lambda: [None])
    sized: list = field(default_factory=lambda: [None])  # the node read for its size only (an upsample's size_of)
    index: dict = field(default_factory=lambda: {"input": 0})  # name → node (names are unique in either network)

    def add(self, row: Row, change: str | None = None) -> None:
        """A row as the next node; a read of a name neither network has (a removed row's) is left out."""
        self.reads.append(tuple(self.index[name] for name in row.reads if name in self.index))
        self.sized.append(self.index.get(row.reads[-1]) if getattr(row.layer, "size_of", None) else None)
        self.index.setdefault(row.name, len(self.names))
        self.names.append(row.name)
        self.rows.append(row)
        self.change.append(change)

    def values(self, analysis: Analysis, counting: ParamCounting, dtype: str, latency: dict | None) -> dict:
        """Each node's Mult-Adds, parameters, bytes written and milliseconds (with a device); None where a node has
        none: the input's costs, and every cost of a removed row, which is no part of the network shown."""
        rows = self.rows[1:]
        values = {"macs": [None] + [row.macs for row in rows],
                  "params": [None] + [row.params_counted(counting) for row in rows],
                  "bytes": [analysis.rows[0].input.size * BYTES[dtype]]
                           + [row.batch * row.output.size * BYTES[dtype] for row in rows]}
        if latency is not None:
            values["ms"] = [None] + [latency.get(row.name) for row in rows]
        return {key: [None if change == "removed" else v for v, change in zip(vs, self.change)]
                for key, vs in values.items()}


def page(analysis: Analysis, counting: ParamCounting = "weights", dtype: str = "fp16", device: Device | None = None,
         diff: Diff | None = None) -> str:
    """The HTML page of a traced network (the `after` side of `diff`, if given, with its changes marked)."""
    graph = _Graph()
    old = [None]  # each node's row before the change, by name: a diff pairs rows by structure, renamed or not
    if diff is None:
        for row in analysis.rows:
            graph.add(row)
            old.append(None)
    else:
        for change in merged(diff.before, diff.after, diff.counting):
            graph.add(change.after or change.before, change.kind)
            old.append(change.before.name if change.before else None)
    report = layer_table(analysis, counting)
    latency = None
    if device is not None:
        from mobcost.views.latency import layers_with_latency

        report = layers_with_latency(report, analysis, device, True)
        latency = report.data["latency_ms"]["per_row"]
    cells = {row["name"]: report.cells(row) for row in report.rows if not row.get("subtotal")}
    before = {}
    if diff is not None:
        table = layer_table(diff.before, counting)
        before = {row["name"]: table.cells(row) for row in table.rows if not row.get("subtotal")}
    peak = peak_step(analysis)
    live = [analysis.rows[j - 1].name if j else "input" for j in peak.tensors]  # in execution order

    nodes = len(graph.names)
    parts = ["backbone" if row is None else row.part for row in graph.rows]
    parts[0] = parts[1] if nodes > 1 else "backbone"
    rank, column = layout(graph.reads, parts)
    x = [MARGIN + 24 + c * COLUMN for c in column]
    y = [MARGIN + r * RANK for r in rank]

    values = graph.values(analysis, counting, dtype, latency)
    groups = [[graph.index[row.name] for row in group] for group in blocks(tuple(graph.rows[1:]))
              if group[0].block is not None]
    block_values = {key: [sum(vs[i] or 0 for i in g) for g in groups] for key, vs in values.items()}
    fills = {key: _fills(vs) for key, vs in values.items()}
    block_fills = {key: _fills(vs) for key, vs in block_values.items()}
    if diff is not None:
        fills["change"] = ["#ffffff"] + [CHANGES[c] for c in graph.change[1:]]
        block_fills["change"] = [CHANGES[_block_change([graph.change[i] for i in g])] for g in groups]
    metric = "change" if diff is not None else "macs"
    totals = {key: sum(v for v in vs if v is not None) for key, vs in values.items()}
    totals["bytes"] = peak.live * BYTES[dtype]

    block_of = [-1] * nodes
    for b, g in enumerate(groups):
        for i in g:
            block_of[i] = b
    edges = [(j, i, int(j == graph.sized[i])) for i in range(nodes) for j in graph.reads[i]]
    part_names = list(dict.fromkeys(parts))
    data = {
        "geometry": {"width": WIDTH, "height": HEIGHT, "column": COLUMN, "rank": RANK, "margin": MARGIN},
        "names": [printable(n) for n in graph.names], "rank": rank, "x": x, "block": block_of,
        "part": [part_names.index(p) for p in parts], "edges": edges,
        "blocks": [{"name": printable(graph.rows[g[0]].block), "nodes": g} for g in groups],
        "headers": [printable(c.header) for c in report.shown],
        "cells": [None] + [[printable(c) for c in (before[o] if c == "removed" else cells[n])]
                           for n, o, c in zip(graph.names[1:], old[1:], graph.change[1:])],
        "before": [None] + [[printable(c) for c in before[o]] if c == "changed" else None
                            for o, c in zip(old[1:], graph.change[1:])],
        "change": graph.change, "shape": [printable(str(analysis.rows[0].input))] + [
            printable(_shape(row)) for row in graph.rows[1:]],
        "values": values, "blockValues": block_values, "totals": totals, "metrics": {
            key: METRICS[key] for key in values}, "fills": fills, "blockFills": block_fills, "metric": metric,
        "peak": [name in live for name in graph.names], "dtype": dtype,
    }
    if diff is not None:
        data["metrics"] = {"change": "change", **data["metrics"]}
    svg = _svg(graph, data, x, y, fills[metric], block_fills[metric], part_names, parts)
    body = (_header(analysis, report, counting, dtype, peak, live, device, latency, diff)
            + _controls(data) + f'<div id="graph">{svg}</div><aside id="panel"><p>Hover over a node to see its '
            f'row; click to keep it.</p></aside>' + _tables(report, diff) + _json(data))
    return _document(f"mobcost view: {report.title}", body)


def _svg(graph: _Graph, data: dict, x: list[int], y: list[int], fills: list[str], block_fills: list[str],
         part_names: list[str], parts: list[str]) -> str:
    width = max(x) + WIDTH + 2 * MARGIN
    height = max(y) + HEIGHT + 2 * MARGIN
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="svg" class="peak" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="the network\'s graph">']
    out.append('<g id="parts">')
    for p, part in enumerate(part_names):
        members = [i for i in range(len(parts)) if parts[i] == part]
        left, top = min(x[i] for i in members) - 14, min(y[i] for i in members) - 10
        right, bottom = max(x[i] for i in members) + WIDTH + 14, max(y[i] for i in members) + HEIGHT + 20
        out.append(f'<g class="part" data-part="{p}"><rect x="{left}" y="{top}" width="{right - left}" '
                   f'height="{bottom - top}"/><text x="{left + 13}" y="{top + 12}" transform="rotate(-90 {left + 13} '
                   f'{top + 12})" text-anchor="end">{escape(printable(part))}</text></g>')
    out.append('</g><g id="blocks">')
    for b, block in enumerate(data["blocks"]):
        g = block["nodes"]
        left, top = min(x[i] for i in g) - 6, min(y[i] for i in g) - 5
        right, bottom = max(x[i] for i in g) + WIDTH + 6, max(y[i] for i in g) + HEIGHT + 16
        out.append(f'<g class="block" data-block="{b}"><rect x="{left}" y="{top}" width="{right - left}" '
                   f'height="{bottom - top}"/><g class="toggle" data-block="{b}" transform="translate({left} {top})">'
                   f'<title>{escape(block["name"])}: collapse</title><rect x="-6" y="-6" width="12" height="12"/>'
                   f'<text y="4">−</text></g></g>')
    out.append('</g><g id="edges">')
    for j, i, sized in data["edges"]:
        skip = x[i] == x[j] and y[i] - y[j] > RANK
        kind = ' class="size"' if sized else ""
        out.append(f'<path{kind} d="{edge_path(x[j] + WIDTH / 2, y[j] + HEIGHT, x[i] + WIDTH / 2, y[i], skip)}"/>')
    out.append('</g><g id="nodes">')
    for i, name in enumerate(data["names"]):
        kind = "input" if i == 0 else (graph.change[i] or "layer")
        second = "input" if i == 0 else (data["cells"][i][1] if len(data["cells"][i]) > 1 else graph.rows[i].kind)
        peak = " peak" if data["peak"][i] else ""
        out.append(_node(f'class="node {kind}{peak}" data-i="{i}"', x[i], y[i], name, second, data["shape"][i],
                         fills[i]))
    for b, block in enumerate(data["blocks"]):
        first, last = block["nodes"][0], block["nodes"][-1]
        change = _block_change([graph.change[i] for i in block["nodes"]]) if graph.change[first] else ""
        out.append(_node(f'class="node proxy off {change}" data-block="{b}"', x[first], y[first], block["name"],
                         f"{len(block['nodes'])} layers", data["shape"][last], block_fills[b]))
    out.append("</g></svg>")
    return "".join(out)


def _node(attributes: str, x: int, y: int, name: str, second: str, shape: str, fill: str) -> str:
    return (f'<g {attributes} transform="translate({x} {y})"><title>{escape(name)}</title><rect width="{WIDTH}" '
            f'height="{HEIGHT}" rx="4" fill="{fill}"/><text x="6" y="12">{escape(_short(name))}</text>'
            f'<text class="kind" x="6" y="25">{escape(_short(second, 24))}</text>'
            f'<text class="shape" x="{WIDTH / 2 + 4:g}" y="{HEIGHT + 12}">{escape(shape)}</text></g>')


def _header(analysis: Analysis, report, counting, dtype: str, peak, live: list[str], device, latency, diff) -> str:
    how = report.data.get("counting", {})
    rows = [("Mult-Adds", f'<td class="num" data-value="{analysis.macs}" id="total-macs">{exact(analysis.macs)}</td>'),
            ("Parameters", f'<td class="num" data-value="{analysis.params_counted(counting)}" id="total-params">'
                           f'{exact(analysis.params_counted(counting))}</td>'),
            (f"Peak activations ({dtype})", f'<td class="num" id="total-peak">{exact(peak.live * BYTES[dtype])} bytes'
                                            "</td>")]
    if latency is not None:
        rows.append((f"Latency on {escape(device.name)} (estimate)",
                     f'<td class="num">{sum(latency.values()):.2f} ms</td>'))
    counted = [("Convention", how.get("convention", "")), ("Parameter counting", how.get("params", "")),
               ("Implementations followed", ", ".join(how.get("follows", [])) or "none declared")]
    counted.append(("What is counted", counting_words(counting, analysis.convention)))
    if how.get("warning"):
        counted.append(("Warning", how["warning"]))
    step = peak.rows
    peak_text = (f"Peak live set of activations: {exact(peak.live * BYTES[dtype])} bytes at {dtype}, while "
                 f"{step[0].name}{' … ' + step[-1].name if len(step) > 1 else ''} runs: "
                 f"{', '.join(live)} (outlined in blue; the rule: mobcost memory).")
    text = [f"<header><h1>{escape(printable(report.title))}</h1>",
            '<table id="totals"><caption>Totals</caption>',
            "".join(f"<tr><th>{h}</th>{cell}</tr>" for h, cell in rows), "</table>",
            '<dl id="counting">', "".join(f"<dt>{escape(k)}</dt><dd>{escape(printable(str(v)))}</dd>"
                                           for k, v in counted), "</dl>",
            f'<p id="peak">{escape(printable(peak_text))}</p>']
    if diff is not None:
        (ma, mb), (pa, pb) = diff.macs, diff.params
        counts = {k: sum(c.kind == k for c in diff.changes) for k in ("added", "removed", "changed")}
        text.append(f'<p id="diff">Compared with {escape(printable(diff.before.label))}: Mult-Adds {mb - ma:+,}, '
                    f'parameters {pb - pa:+,}; ' + ", ".join(
                        f'<span class="key {k}">{n} {k}</span>' for k, n in counts.items()) + "</p>")
    return "".join(text) + "</header>"


def _controls(data: dict) -> str:
    options = "".join(f'<option value="{k}"{" selected" if k == data["metric"] else ""}>{escape(v)}</option>'
                      for k, v in data["metrics"].items())
    return (f'<nav id="controls"><label>Colour by <select id="metric">{options}</select></label> '
            '<span id="legend"></span> <button id="collapse">Collapse blocks</button> <button id="expand">Expand '
            'blocks</button> <label><input type="checkbox" id="showpeak" checked> peak live set</label> '
            '<button id="zoomout">−</button><button id="zoomin">+</button></nav>')


def _tables(report, diff) -> str:
    text = f'<section id="layers">{html(report, inline_style=False)}</section>'
    if diff is not None:
        from mobcost.views.diff import diff_table

        text += f'<section id="changes">{html(diff_table(diff), inline_style=False)}</section>'
    return text


def _json(data: dict) -> str:
    """The data as JSON that cannot end its script element nor be read as markup: <, >, & and the line separators
    U+2028/2029 as \\u escapes."""
    text = json_text(data, indent=None)  # strict: no NaN or Infinity, as every JSON mobcost writes
    for c in "<>&\u2028\u2029":
        text = text.replace(c, f"\\u{ord(c):04x}")
    return f'<script type="application/json" id="data">{text}</script>'


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _document(title: str, body: str) -> str:
    policy = (f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; img-src 'none'; "
              "base-uri 'none'; form-action 'none'")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(printable(title))}</title><style>{STYLE}</style></head><body>{body}'
            f'<script>{SCRIPT}</script></body></html>\n')
