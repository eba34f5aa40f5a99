// mobcost view: the page's one script (inlined, admitted by its hash). The graph is drawn by Python; this adds the
// panel, the colour switch, collapsing blocks (nodes move up where ranks empty; edges are redrawn), zoom and the
// peak outline. It reads the data from the JSON element and writes only text (textContent), never markup.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent), G = D.geometry;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.getElementById("svg"), panel = document.getElementById("panel");
  const nodes = [...svg.querySelectorAll(".node:not(.proxy)")], proxies = [...svg.querySelectorAll(".node.proxy")];
  const collapsed = D.blocks.map(() => false);
  let metric = D.metric, pinned = null, zoom = 1;

  // a node as drawn: itself, or -1 - b where its block b is collapsed; `at` gives the node whose place it takes
  const rep = i => (D.block[i] >= 0 && collapsed[D.block[i]] ? -1 - D.block[i] : i);
  const at = r => (r < 0 ? D.blocks[-1 - r].nodes[0] : r);

  // the same curve as edge_path in html_graph.py
  function path(x1, y1, x2, y2, skip) {
    if (skip) {
      const s = x1 + G.width / 2, c = s + 26;
      return `M${s} ${y1 - G.height / 2}C${c} ${y1},${c} ${y2},${s} ${y2 + G.height / 2}`;
    }
    const m = (y1 + y2) / 2;
    return `M${x1} ${y1}C${x1} ${m},${x2} ${m},${x2} ${y2}`;
  }

  function box(g, members, pad, top, bottom, Y) {
    const shown = [...new Set(members.map(i => at(rep(i))))], r = g.querySelector("rect");
    const x0 = Math.min(...shown.map(i => D.x[i])) - pad, y0 = Math.min(...shown.map(Y)) - top;
    const x1 = Math.max(...shown.map(i => D.x[i])) + G.width + pad, y1 = Math.max(...shown.map(Y)) + G.height + bottom;
    r.setAttribute("x", x0); r.setAttribute("y", y0);
    r.setAttribute("width", x1 - x0); r.setAttribute("height", y1 - y0);
    const toggle = g.querySelector(".toggle");
    if (toggle) toggle.setAttribute("transform", `translate(${x0} ${y0})`);
    const label = g.querySelector(":scope>text");
    if (label) {
      label.setAttribute("x", x0 + 13); label.setAttribute("y", y0 + 12);
      label.setAttribute("transform", `rotate(-90 ${x0 + 13} ${y0 + 12})`);
    }
  }

  function place() {
    const used = new Set();
    nodes.forEach((_, i) => { if (at(rep(i)) === i) used.add(D.rank[i]); });
    const ranks = [...used].sort((a, b) => a - b), y = new Map(ranks.map((r, k) => [r, G.margin + k * G.rank]));
    const Y = i => y.get(D.rank[at(i)]);
    nodes.forEach((g, i) => {
      const on = rep(i) === i;
      g.classList.toggle("off", !on);
      if (on) g.setAttribute("transform", `translate(${D.x[i]} ${Y(i)})`);
    });
    proxies.forEach((g, b) => {
      const first = D.blocks[b].nodes[0];
      g.classList.toggle("off", !collapsed[b]);
      g.setAttribute("transform", `translate(${D.x[first]} ${Y(first)})`);
    });
    svg.querySelectorAll(".block").forEach((g, b) => {
      g.classList.toggle("off", collapsed[b]);
      if (!collapsed[b]) box(g, D.blocks[b].nodes, 6, 5, 16, Y);
    });
    svg.querySelectorAll(".part").forEach((g, p) => box(g, nodes.map((_, i) => i).filter(i => D.part[i] === p),
                                                        14, 10, 20, Y));
    const edges = document.getElementById("edges"), seen = new Set();
    edges.replaceChildren();
    for (const [s, d, sized] of D.edges) {
      const a = rep(s), b = rep(d), key = a + "," + b;
      if (a === b || seen.has(key)) continue;
      seen.add(key);
      const x1 = D.x[at(a)] + G.width / 2, y1 = Y(a) + G.height, x2 = D.x[at(b)] + G.width / 2, y2 = Y(b);
      const p = document.createElementNS(NS, "path");
      p.setAttribute("d", path(x1, y1, x2, y2, x1 === x2 && y2 - y1 > G.rank));
      if (sized) p.classList.add("size");
      edges.append(p);
    }
    svg.dataset.h = Math.max(...ranks.map(r => y.get(r))) + G.height + 2 * G.margin;
    size();
  }

  function size() {
    const w = +svg.getAttribute("viewBox").split(" ")[2], h = +svg.dataset.h;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("width", w * zoom);
    svg.setAttribute("height", h * zoom);
  }

  const num = v => (v == null ? "–" : Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(3));

  function colour() {
    nodes.forEach((g, i) => { if (i) g.querySelector("rect").setAttribute("fill", D.fills[metric][i]); });
    proxies.forEach((g, b) => g.querySelector("rect").setAttribute("fill", D.blockFills[metric][b]));
    document.getElementById("legend").textContent = metric === "change"
      ? "green added, orange changed, dashed red removed, grey unchanged"
      : `pale yellow: little, red: the most ${D.metrics[metric]} (total ${num(D.totals[metric])}` +
        (metric === "bytes" ? ` at the peak, ${D.dtype})` : ")");
  }

  function row(head, value) {
    const tr = document.createElement("tr"), th = document.createElement("th"), td = document.createElement("td");
    th.textContent = head;
    td.textContent = value;
    tr.append(th, td);
    return tr;
  }

  function show(g) {
    const table = document.createElement("table"), title = document.createElement("h3");
    if (g.dataset.block !== undefined) {
      const b = +g.dataset.block, block = D.blocks[b];
      title.textContent = block.name;
      table.append(row("Layers", block.nodes.map(i => D.names[i]).join(", ")));
      for (const key in D.blockValues) table.append(row(D.metrics[key] + " (sum)", num(D.blockValues[key][b])));
    } else {
      const i = +g.dataset.i;
      title.textContent = D.names[i];
      if (i === 0) table.append(row("Input", D.shape[0]));
      else {
        D.headers.forEach((h, k) => table.append(row(h, D.cells[i][k] ?? "")));
        table.append(row("Output", D.shape[i]));
        if (D.values.bytes[i] != null) table.append(row(`Output bytes (${D.dtype})`, num(D.values.bytes[i])));
        if (D.change[i]) table.append(row("Change", D.change[i]));
        if (D.before[i]) D.headers.forEach((h, k) => table.append(row("Before: " + h, D.before[i][k] ?? "")));
      }
      if (D.peak[i]) table.append(row("Peak", "live at the peak of activation memory"));
    }
    panel.replaceChildren(title, table);
  }

  svg.addEventListener("mouseover", ev => {
    const g = ev.target.closest(".node");
    if (g && !pinned) show(g);
  });
  svg.addEventListener("click", ev => {
    const toggle = ev.target.closest(".toggle");
    if (toggle) { collapsed[+toggle.dataset.block] = true; place(); return; }
    const g = ev.target.closest(".node");
    if (!g) return;
    if (pinned) pinned.classList.remove("pinned");
    pinned = pinned === g ? null : g;
    if (pinned) { g.classList.add("pinned"); show(g); }
  });
  svg.addEventListener("dblclick", ev => {
    const g = ev.target.closest(".node.proxy");
    if (g) { collapsed[+g.dataset.block] = false; place(); }
  });
  const on = (id, event, handler) => document.getElementById(id).addEventListener(event, handler);
  on("metric", "change", ev => { metric = ev.target.value; colour(); });
  on("collapse", "click", () => { collapsed.fill(true); place(); });
  on("expand", "click", () => { collapsed.fill(false); place(); });
  on("showpeak", "change", ev => svg.classList.toggle("peak", ev.target.checked));
  on("zoomin", "click", () => { zoom *= 1.25; size(); });
  on("zoomout", "click", () => { zoom /= 1.25; size(); });
  svg.dataset.h = svg.getAttribute("viewBox").split(" ")[3];
  colour();
  document.body.classList.add("ready");
})();
