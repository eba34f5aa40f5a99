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
import json
import math
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from mobcost.memory import BYTES, peak_step
from mobcost.output import json_safe, printable
from mobcost.table import exact, html
from mobcost.views.network import blocks, layer_table

if TYPE_CHECKING:
    from mobcost.delta import Diff
    from mobcost.latency.device import Device
    from mobcost.language import ParamCounting
    from mobcost.trace import Analysis, Row

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

    def add(self, row: Row, change: str | None = None) -> None:
        index = {name: i for i, name in enumerate(self.names)}
        self.names.append(row.name)
        self.rows.append(row)
        self.reads.append(tuple(index[name] for name in row.reads if name in index))
        self.sized.append(index.get(row.reads[-1]) if getattr(row.layer, "size_of", None) else None)
        self.change.append(change)


def page(analysis: Analysis, counting: ParamCounting = "weights", dtype: str = "fp16", device: Device | None = None,
         diff: Diff | None = None) -> str:
    """The HTML page of a traced network (the `after` side of `diff`, if given, with its changes marked)."""
    from mobcost.delta import merged

    graph = _Graph()
    index: dict[str, int] = {}
    if diff is None:
        for row in analysis.rows:
            graph.add(row)
    else:
        for change in merged(diff.before, diff.after, diff.counting):
            graph.add(change.after or change.before, change.kind)
    for i, name in enumerate(graph.names):
        index.setdefault(name, i)
    report = layer_table(analysis, counting)
    latency = None
    if device is not None:
        from mobcost.views.latency import layers_with_latency

        report = layers_with_latency(report, analysis, device, True)
        latency = report.data["latency_ms"]["per_row"]
    cells = {row["name"]: report.cells(row) for row in report.rows if not row.get("subtotal")}
    before = {}
    if diff is not None:
        old = layer_table(diff.before, counting)
        before = {row["name"]: old.cells(row) for row in old.rows if not row.get("subtotal")}
    peak = peak_step(analysis)
    live = {analysis.rows[j - 1].name if j else "input" for j in peak.tensors}

    nodes = len(graph.names)
    parts = ["backbone" if row is None else row.part for row in graph.rows]
    parts[0] = parts[1] if nodes > 1 else "backbone"
    rank, column = layout(graph.reads, parts)
    x = [MARGIN + 24 + c * COLUMN for c in column]
    y = [MARGIN + r * RANK for r in rank]

    values = {"macs": [None] + [row.macs for row in graph.rows[1:]],
              "params": [None] + [row.params_counted(counting) for row in graph.rows[1:]],
              "bytes": [analysis.rows[0].input.size * BYTES[dtype]]
                       + [row.batch * row.output.size * BYTES[dtype] for row in graph.rows[1:]]}
    if latency is not None:
        values["ms"] = [None] + [latency.get(row.name) if change != "removed" else None
                                 for row, change in zip(graph.rows[1:], graph.change[1:])]
    for key in values:  # a removed row is no part of the network shown: drawn, not coloured
        values[key] = [None if change == "removed" else v for v, change in zip(values[key], graph.change)]
    groups = [[index[row.name] for row in group] for group in blocks(tuple(r for r in graph.rows[1:]))
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
        "cells": [None] + [[printable(c) for c in cells.get(n) or before.get(n) or []] for n in graph.names[1:]],
        "before": [None] + [[printable(c) for c in before[n]] if c == "changed" else None
                            for n, c in zip(graph.names[1:], graph.change[1:])],
        "change": graph.change, "shape": [printable(analysis.rows[0].input.__str__())] + [
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
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="svg" width="{width}" height="{height}" '
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
            f'<text class="kind" x="6" y="25">{escape(_short(second, 24))}</text><text class="shape" x="{WIDTH / 2 + 4:g}" '
            f'y="{HEIGHT + 12}">{escape(shape)}</text></g>')


def _header(analysis: Analysis, report, counting, dtype: str, peak, live: set[str], device, latency, diff) -> str:
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
    if how.get("warning"):
        counted.append(("Warning", how["warning"]))
    step = peak.rows
    peak_text = (f"Peak live set of activations: {exact(peak.live * BYTES[dtype])} bytes at {dtype}, while "
                 f"{step[0].name}{' … ' + step[-1].name if len(step) > 1 else ''} runs: "
                 f"{', '.join(sorted(live, key=lambda n: n != 'input'))} (outlined in blue; the rule: mobcost memory).")
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
    text = json_safe(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
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


STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:0 24px;color:#222}
header,section{margin-right:360px}
h1{font-size:18px}
table{border-collapse:collapse;margin:8px 0}
td,th{padding:1px 8px;border-bottom:1px solid #ddd;text-align:left}
.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:bold}
dl{display:grid;grid-template-columns:max-content auto;gap:0 12px}dt{font-weight:bold}dd{margin:0}
#controls{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #ccc;z-index:2}
#graph{overflow:auto;max-height:80vh;border:1px solid #ccc;margin-right:360px}
#panel{position:fixed;right:12px;top:60px;width:330px;max-height:80vh;overflow:auto;background:#fafafa;
border:1px solid #bbb;padding:8px;font-size:12px;z-index:3}
#panel table{width:100%}
.node rect{stroke:#555;stroke-width:1}
.node text{font-size:11px;fill:#111;pointer-events:none}
.node text.kind{font-size:10px;fill:#333}
.node text.shape{font-size:9px;fill:#666}
.node{cursor:pointer}
.node.input rect{fill:#dde}
.node.removed rect{stroke:#c00;stroke-dasharray:4 3}
.node.added rect{stroke:#2a2}
.node.changed rect{stroke:#d80}
svg.peak .node.peak rect{stroke:#1565c0;stroke-width:3}
.node.pinned rect{stroke:#000;stroke-width:3}
.part>rect{fill:#f6f8fb;stroke:#99a;stroke-width:1}
.part text{font-size:12px;fill:#557;font-weight:bold}
.block>rect{fill:none;stroke:#bbb;stroke-dasharray:3 3}
.toggle rect{fill:#fff;stroke:#888}.toggle text{font-size:11px;text-anchor:middle}.toggle{cursor:pointer}
#edges path{fill:none;stroke:#777;stroke-width:1.2}
#edges path.size{stroke:#bbb;stroke-dasharray:2 3}
.off{display:none}
.key{padding:0 4px;border:1px solid #999}.key.added{background:#7fc97f}.key.changed{background:#fdc086}
.key.removed{border-style:dashed;border-color:#c00}
#legend{font-size:12px;color:#444}
nav button,nav select{font:inherit}
noscript p{color:#744}
"""

SCRIPT = r"""
(function(){
"use strict";
const D=JSON.parse(document.getElementById("data").textContent),G=D.geometry,NS="http://www.w3.org/2000/svg";
const svg=document.getElementById("svg"),panel=document.getElementById("panel");
const nodes=[...svg.querySelectorAll(".node:not(.proxy)")],proxies=[...svg.querySelectorAll(".node.proxy")];
const collapsed=D.blocks.map(()=>false);let metric=D.metric,pinned=null,zoom=1;
svg.classList.add("peak");
function rep(i){const b=D.block[i];return b>=0&&collapsed[b]?-1-b:i}
function at(r){return r<0?D.blocks[-1-r].nodes[0]:r}
function place(){
  const used=new Set();
  for(let i=0;i<nodes.length;i++){const r=rep(i);if(r===i||D.blocks[-1-r].nodes[0]===i)used.add(D.rank[i])}
  const ranks=[...used].sort((a,b)=>a-b),y=new Map(ranks.map((r,k)=>[r,G.margin+k*G.rank]));
  const Y=i=>y.get(D.rank[at(i)]);
  nodes.forEach((g,i)=>{const on=rep(i)===i;g.classList.toggle("off",!on);if(on)g.setAttribute("transform","translate("+D.x[i]+" "+Y(i)+")")});
  proxies.forEach((g,b)=>{g.classList.toggle("off",!collapsed[b]);const f=D.blocks[b].nodes[0];g.setAttribute("transform","translate("+D.x[f]+" "+Y(f)+")")});
  svg.querySelectorAll(".block").forEach((g,b)=>{
    g.classList.toggle("off",collapsed[b]);if(collapsed[b])return;box(g,D.blocks[b].nodes,6,5,16,Y)});
  svg.querySelectorAll(".part").forEach((g,p)=>{
    const m=[];for(let i=0;i<nodes.length;i++)if(D.part[i]===p)m.push(i);box(g,m,14,10,20,Y)});
  const e=document.getElementById("edges"),seen=new Set();e.replaceChildren();
  for(const [s,d,z] of D.edges){
    const a=rep(s),b=rep(d),k=a+","+b;if(a===b||seen.has(k))continue;seen.add(k);
    const x1=D.x[at(a)]+G.width/2,y1=Y(a)+G.height,x2=D.x[at(b)]+G.width/2,y2=Y(b);
    const p=document.createElementNS(NS,"path");p.setAttribute("d",path(x1,y1,x2,y2,x1===x2&&y2-y1>G.rank));
    if(z)p.classList.add("size");e.append(p)}
  const h=Math.max(...ranks.map(r=>y.get(r)))+G.height+2*G.margin;svg.dataset.h=h;size()}
function box(g,m,px,top,bottom,Y){
  const r=g.querySelector("rect"),vis=[...new Set(m.map(i=>at(rep(i))))];
  if(!vis.length){g.classList.add("off");return}g.classList.remove("off");
  const x0=Math.min(...vis.map(i=>D.x[i]))-px,y0=Math.min(...vis.map(i=>Y(i)))-top;
  const x1=Math.max(...vis.map(i=>D.x[i]))+G.width+px,y1=Math.max(...vis.map(i=>Y(i)))+G.height+bottom;
  r.setAttribute("y",y0);r.setAttribute("height",y1-y0);r.setAttribute("x",x0);r.setAttribute("width",x1-x0);
  const t=g.querySelector(".toggle");if(t)t.setAttribute("transform","translate("+x0+" "+y0+")");
  const l=g.querySelector(":scope>text");if(l){l.setAttribute("x",x0+13);l.setAttribute("y",y0+12);l.setAttribute("transform","rotate(-90 "+(x0+13)+" "+(y0+12)+")")}}
function path(x1,y1,x2,y2,skip){
  if(skip){const s=x1+G.width/2;return "M"+s+" "+(y1-G.height/2)+"C"+(s+26)+" "+y1+","+(s+26)+" "+y2+","+s+" "+(y2+G.height/2)}
  const m=(y1+y2)/2;return "M"+x1+" "+y1+"C"+x1+" "+m+","+x2+" "+m+","+x2+" "+y2}
function size(){const w=+svg.getAttribute("viewBox").split(" ")[2],h=+svg.dataset.h;
  svg.setAttribute("viewBox","0 0 "+w+" "+h);svg.setAttribute("width",w*zoom);svg.setAttribute("height",h*zoom)}
function colour(){
  nodes.forEach((g,i)=>g.querySelector("rect").setAttribute("fill",i?D.fills[metric][i]:"#dde"));
  proxies.forEach((g,b)=>g.querySelector("rect").setAttribute("fill",D.blockFills[metric][b]));
  const L=document.getElementById("legend");
  L.textContent=metric==="change"?"green added, orange changed, dashed removed, grey unchanged":
    "pale yellow: little, red: the most "+D.metrics[metric]+" (total "+num(D.totals[metric])+(metric==="bytes"?" at the peak, "+D.dtype:"")+")"}
function num(v){return v==null?"–":Number.isInteger(v)?v.toLocaleString("en-US"):v.toFixed(3)}
function cell(t,h){const e=document.createElement(h?"th":"td");e.textContent=t;return e}
function row(a,b){const r=document.createElement("tr");r.append(cell(a,true),cell(b));return r}
function show(g){
  const t=document.createElement("table"),head=document.createElement("h3");
  if(g.dataset.block!==undefined){const b=+g.dataset.block,B=D.blocks[b];head.textContent=B.name;
    t.append(row("Layers",B.nodes.map(i=>D.names[i]).join(", ")));
    for(const k in D.blockValues)t.append(row(D.metrics[k]+" (sum)",num(D.blockValues[k][b])))}
  else{const i=+g.dataset.i;head.textContent=D.names[i];
    if(i===0)t.append(row("Input",D.shape[0]));
    else{D.headers.forEach((h,k)=>t.append(row(h,D.cells[i][k]??"")));
      t.append(row("Output",D.shape[i]));
      if(D.values.bytes[i]!=null)t.append(row("Output bytes ("+D.dtype+")",num(D.values.bytes[i])));
      if(D.values.ms&&D.values.ms[i]!=null)t.append(row("Latency (ms, est.)",num(D.values.ms[i])));
      if(D.change[i])t.append(row("Change",D.change[i]));
      if(D.before[i])D.headers.forEach((h,k)=>t.append(row("Before: "+h,D.before[i][k]??"")))}
    if(D.peak[i])t.append(row("Peak","live at the peak"))}
  panel.replaceChildren(head,t)}
svg.addEventListener("mouseover",ev=>{const g=ev.target.closest(".node");if(g&&!pinned)show(g)});
svg.addEventListener("click",ev=>{
  const tg=ev.target.closest(".toggle");if(tg){const b=+tg.dataset.block;collapsed[b]=true;place();return}
  const g=ev.target.closest(".node");if(!g)return;
  if(g.classList.contains("proxy")&&ev.detail>1){collapsed[+g.dataset.block]=false;place();return}
  if(pinned)pinned.classList.remove("pinned");pinned=pinned===g?null:g;if(pinned){g.classList.add("pinned");show(g)}});
svg.addEventListener("dblclick",ev=>{const g=ev.target.closest(".node.proxy");if(g){collapsed[+g.dataset.block]=false;place()}});
document.getElementById("metric").addEventListener("change",ev=>{metric=ev.target.value;colour()});
document.getElementById("collapse").addEventListener("click",()=>{collapsed.fill(true);place()});
document.getElementById("expand").addEventListener("click",()=>{collapsed.fill(false);place()});
document.getElementById("showpeak").addEventListener("change",ev=>svg.classList.toggle("peak",ev.target.checked));
document.getElementById("zoomin").addEventListener("click",()=>{zoom*=1.25;size()});
document.getElementById("zoomout").addEventListener("click",()=>{zoom/=1.25;size()});
svg.dataset.h=svg.getAttribute("viewBox").split(" ")[3];colour();
document.body.classList.add("ready");
})();
"""
