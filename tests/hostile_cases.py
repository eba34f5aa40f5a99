"""Generators of hostile inputs, one hypothesis strategy per class (issue 10): each draws a small spec (a few hundred
bytes) and the command to run it with. tests/test_hostile_generated.py holds every draw to its outcome (exit 2 with
one located paragraph, or, for valid specs with hostile text, exit 0 and nothing unsafe printed);
bench/hostile.py runs draws of each class in fresh processes for their time and peak memory.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from mobcost.limits import MAX_CHANNELS, MAX_LAYERS, MAX_ONNX_NODES, MAX_SWEPT_ROWS
from mobcost.language import builtin_models

UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e"
                         "\u2060-\u2069\ufeff]")
"""What no output of mobcost may contain: control characters but tab and newline, bidi overrides, and characters
that show nothing or break a line unseen (zero-width, word joiner, byte-order mark, line and paragraph separators)."""
HEAD = "name: hostile\ntitle: Hostile\ninput: {resolution: 32}\n"


@dataclass(frozen=True)
class Case:
    text: str | bytes  # the spec, or an ONNX file's bytes
    command: tuple[str, ...] = ("table", "--format", "json")  # the input's path goes after the first word
    exit_code: int = 2  # -1: 0 or 2
    suffix: str = ".yaml"
    destination: str | None = None  # where `{out}` in the command points: one of DESTINATIONS
    exits: tuple[int, ...] = ()  # the exit codes allowed, when more than exit_code says

    def argv(self, path: str, out: str = "") -> list[str]:
        return [self.command[0], path, *(out if word == "{out}" else word for word in self.command[1:])]

    def allowed(self) -> tuple[int, ...]:
        return self.exits or (((0, 1, 2) if self.command[0] == "fit" else (0, 2)) if self.exit_code == -1
                              else (self.exit_code,))

    def prepare(self, folder: Path) -> list[str]:
        """Write the input (and the destination, as `destination` says) into folder; the arguments to run."""
        source = folder / f"input{self.suffix}"
        if isinstance(self.text, bytes):
            source.write_bytes(self.text)
        else:
            source.write_text(self.text, encoding="utf-8")
        out = folder / f"out{'.svg' if '--export' in self.command else self.suffix}"
        if self.destination == "existing":
            out.write_text("theirs")
        elif self.destination == "symlink":
            (folder / "victim.txt").write_text("victim")
            out.symlink_to(folder / "victim.txt")
        elif self.destination == "fifo":
            os.mkfifo(out)
        elif self.destination == "folder":
            out.mkdir()
        elif self.destination == "device":
            out = Path(os.devnull)
        elif self.destination == "input":
            out = source
        return self.argv(str(source), str(out))


DESTINATIONS = ("new", "existing", "symlink", "fifo", "folder", "device", "input")


# ---- 1. an alias inside its own anchor's value -----------------------------------------------------------------

def _nested(inner: str, depth: int) -> str:
    for i in range(depth):
        inner = f"[{inner}]" if i % 2 else f"{{k{i}: {inner}}}"
    return inner


@st.composite
def cycles(draw) -> Case:
    anchor = draw(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))
    inner = _nested(f"*{anchor}", draw(st.integers(0, 6)))
    where = draw(st.sampled_from(["layers", "note", "variant", "set"]))
    if where == "layers":
        return Case(HEAD + f"layers: &{anchor} [{{kind: conv, out: 8}}, {inner}]\n")
    if where == "note":
        return Case(HEAD + f"layers: [&{anchor} {{kind: conv, out: 8, note: {inner}}}]\n")
    layers = "layers: [{kind: pw, name: head, out: 8}]\n"
    if where == "variant":
        return Case(HEAD + layers + f"variants:\n  unused: &{anchor} {{title: U, note: {inner}}}\n")
    return Case(HEAD + layers + f"variants:\n  v: {{title: V, set: &{anchor} {{head: {inner}}}}}\n",
                ("check", "--format", "json"))


# ---- 2. numbers the length limit never sees: exponents, explicit tags -------------------------------------------

@st.composite
def exponents(draw) -> Case:
    mantissa = draw(st.sampled_from(["1", "9", "1.5", ".5", "123"]))
    exponent = draw(st.integers(101, 10**12))
    number = f"{mantissa}e{draw(st.sampled_from(['', '-', '+']))}{exponent}"
    quoted = f"'{number}'" if draw(st.booleans()) else number
    field = draw(st.sampled_from(["t", "max_macs", "max_params", "macs", "resolution", "out", "alpha"]))
    if field == "t":
        return Case(HEAD + f"layers: [{{kind: bottleneck, out: 16, t: {quoted}}}]\n")
    layers = "layers: [{kind: conv, out: 8}]\n"
    if field.startswith("max_"):
        return Case(HEAD + layers + f"budget: {{{field}: {quoted}}}\n", ("check", "--format", "json"))
    if field in ("macs", "alpha"):
        return Case(HEAD + layers + f"reference: [{{source: s, label: l, macs: '1', {field}: {quoted}}}]\n",
                    ("check", "--format", "json"))
    if field == "resolution":
        return Case(f"name: hostile\ntitle: Hostile\ninput: {{resolution: {quoted}}}\n" + layers)
    return Case(HEAD + f"layers: [{{kind: conv, out: {quoted}}}]\n")


@st.composite
def tags(draw) -> Case:
    tag, value = draw(st.sampled_from([
        ("!!int", "abc"), ("!!int", "1.5"), ("!!int", "0x10"), ("!!int", "064"), ("!!int", "3:44"), ("!!int", "yes"),
        ("!!float", "x"), ("!!float", "1e"), ("!!float", "on"), ("!!bool", "maybe"), ("!!bool", "yes"),
        ("!!bool", "1"), ("!!null", "nothing"), ("!!int", "9" * 4000), ("!!float", "1" * 101 + ".5")]))
    field = draw(st.sampled_from(["out", "stride", "bn", "note"]))
    return Case(HEAD + f"layers: [{{kind: conv, out: 8, {field}: {tag} {value}}}]\n".replace("out: 8, out:", "out:"))


# ---- 3. limits held for every variant --------------------------------------------------------------------------

@st.composite
def variant_sizes(draw) -> Case:
    n = draw(st.integers(MAX_LAYERS + 1, 10**15))
    kind = draw(st.sampled_from(["bottleneck", "repeat", "drop"]))
    layers = ("layers:\n  - {kind: bottleneck, name: body, out: 16}\n  - {kind: pw, name: head, out: 8}\n"
              if kind != "repeat" else
              "layers:\n  - {name: body, repeat: 2, layers: [{kind: pw, out: 8}]}\n  - {kind: pw, name: head, out: 8}\n")
    edit = {"bottleneck": f"set: {{body: {{n: {n}}}}}", "repeat": f"set: {{body: {{repeat: {n}}}}}",
            "drop": "drop: [body, head]"}[kind]
    command = draw(st.sampled_from([("table", "--format", "json"), ("check", "--format", "json"),
                                    ("memory",), ("fit", "--max-macs", "1G")]))
    return Case(HEAD + layers + f"variants:\n  v: {{title: V, {edit}}}\n", command)


# ---- 4. work that multiplies ------------------------------------------------------------------------------------

@st.composite
def work(draw) -> Case:
    """Work that multiplies: a spec of a few hundred bytes (`repeat:` thousands of rows) under every command that
    traces it per variant, in full or replayed: refused by the work plan before the first trace (exit 2)."""
    layers = draw(st.integers(MAX_SWEPT_ROWS // 696 + 1, MAX_LAYERS - 1))  # 696: fit's default grid
    spec = HEAD.replace("32", "8") + f"layers:\n  - repeat: {layers}\n    layers: [{{kind: pw, out: 8}}]\n"
    command = draw(st.sampled_from([
        ("sweep", "--alpha", "0.25:1.25:0.002", "--convention", draw(st.sampled_from(["torch", "keras", "ptflops"]))),
        ("sweep", "--alpha", "0.25:1.25:0.002", "--device", "pixel1"),
        ("sweep", "--alpha", "0.25:1.25:0.002", "--res", "96:320"), ("sweep", "--alpha", "0.001:1:0.001", "--res",
                                                                      "1:1000:1"),
        ("fit", "--max-macs", "1G"), ("fit", "--max-params", "1G", "--device", "pixel1"),
        ("fit", "--max-latency", "20ms", "--device", "pixel1"),
        ("fit", "--max-memory", "1MB"), ("fit", "--max-memory", "1GB", "--alpha", "0.1:2:0.001")]))
    return Case(spec, command)


@st.composite
def bad_names(draw) -> Case:
    """Many references to variants that do not exist, among many layer names: capped errors."""
    count = draw(st.integers(21, 400))
    layers = "".join(f"  - {{kind: pw, name: layer{i}, out: 8}}\n" for i in range(count))
    refs = "".join(f"  - {{source: s, label: l, variant: layer{i}x, macs: '1'}}\n" for i in range(count))
    return Case(HEAD + "layers:\n" + layers + "variants:\n" + "".join(
        f"  v{i}: {{title: V, drop: [layer{i}y]}}\n" for i in range(count)) + "reference:\n" + refs)


# ---- 5. markup and terminal escapes in a valid spec -------------------------------------------------------------

UNSAFE = ["\x1b[2J", "\x1b]0;pwned\x07", "\x1b[31m", "\x9b2J", "\x9d8;;http://x\x9c", "\u202e", "\u2066", "\x07",
          "\x08", "\r", "\x7f"]
MARKUP = ["[/bold]", "[link=http://evil.example]click[/link]", "[bold red]", "[/]", "[", "]", "\\[x]", "$x^2$"]


@st.composite
def escapes(draw) -> Case:
    """A valid spec whose title, layer name and note carry markup and control characters: exit 0."""
    pieces = st.lists(st.sampled_from(UNSAFE + MARKUP + ["a", " ", "é"]), min_size=1, max_size=6).map("".join)

    def quoted(text: str) -> str:  # YAML double quotes: every control character escaped
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'

    title, name, note = draw(pieces), draw(pieces), draw(pieces)
    command = draw(st.sampled_from([("table",), ("table", "--format", "markdown"), ("table", "--format", "csv"),
                                    ("table", "--format", "json"), ("breakdown",), ("memory",), ("memory", "--layers"),
                                    ("explain",), ("compare",)]))
    return Case(f"name: hostile\ntitle: {quoted(title)}\ninput: {{resolution: 32}}\n"
                f"layers:\n  - {{kind: conv, out: 8, name: {quoted(name)}, note: {quoted(note)}}}\n", command, 0)


# ---- 6. YAML 1.1 coercions where a number or a boolean is expected ----------------------------------------------

@st.composite
def coercions(draw) -> Case:
    value = draw(st.sampled_from(["on", "off", "yes", "no", "y", "n", "Yes", "ON", "064", "0o10", "0x10", "3:44",
                                  "1_000", '"32"', "'8'", "0b11", "+.5e1x"]))
    field = draw(st.sampled_from(["resolution", "out", "stride", "kernel", "padding", "bn"]))
    if field == "resolution":
        return Case(f"name: hostile\ntitle: Hostile\ninput: {{resolution: {value}}}\nlayers: [{{kind: conv, out: 8}}]\n")
    layer = f"{{kind: conv, out: 8, {field}: {value}}}".replace("out: 8, out:", "out:")
    return Case(HEAD + f"layers: [{layer}]\n")


# ---- 7. grids and references on the command line ----------------------------------------------------------------

@st.composite
def grids(draw) -> Case:
    """sweep and fit with odd --alpha and --res values, and odd model references: exit 0 or 2 (fit: 1 where nothing
    fits the budget, as grep), never a traceback."""
    value = st.sampled_from(["", ",", "0", "-1", "1e999999999", "1e-999999999", "nan", "inf", "٣", "0:1:0",
                             "1:0", "0.25:1", "96:320:8", "1:2:3:4", "1" * 5000, "0.5", "224"])
    command = draw(st.sampled_from(["sweep", "fit"]))
    option = ("--max-macs", draw(st.sampled_from(["150M", "0", "1e-999999999999", "-1", "٣"]))) if command == "fit" else ()
    return Case(HEAD + "layers: [{kind: conv, out: 8}]\n",
                (command, "--alpha", draw(value), "--res", draw(value), *option), -1)  # -1: exit 0 or 2


# ---- 8. a backbone that is not a shipped config, or is cut or edited where it has no layer -----------------------

NOT_SHIPPED = ["../configs/mobilenet_v1.yaml", "/etc/passwd", "configs/mobilenet_v2", "mobilenet_v1.yaml", "-",
               "file:///etc/passwd", "https://example.org/v1.yaml", "~/net", "C:\\net.yaml", "v1:", ":torchvision",
               "v1::x", "v1:torchvision:x", "v٣", "v1\u202e", "x" * 5000, "", "lraspp_v3", "faster_rcnn_v1",
               "v2:nope"]


@st.composite
def backbones(draw) -> Case:
    """A backbone naming a path, a URL, standard input, a head (which has a backbone of its own) or an unknown
    variant; or a shipped one cut at, or editing, a layer it does not have: exit 2, never a file read."""
    name = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True).filter(lambda n: n not in builtin_models())
    kind = draw(st.sampled_from(["model", "through", "set", "drop"]))
    if kind == "model":
        backbone = f"{{model: {json.dumps(draw(st.sampled_from(NOT_SHIPPED) | name))}}}"
    else:
        missing = json.dumps(draw(name.filter(lambda n: n not in ("14x14x512", "pool1", "fc1", "softmax1"))))
        backbone = {"through": f"{{model: v1, through: {missing}}}", "drop": f"{{model: v1, drop: [{missing}]}}",
                    "set": f"{{model: v1, set: {{{missing}: {{}}}}}}"}[kind]
    command = draw(st.sampled_from([("table", "--format", "json"), ("check", "--format", "json"), ("memory",),
                                    ("sweep", "--alpha", "0.5,1")]))
    return Case(HEAD + f"backbone: {backbone}\nlayers: [{{kind: pw, out: 8}}]\n", command)


# ---- 9. graph references: a misspelled name among thousands of long ones ----------------------------------------

@st.composite
def graph_references(draw) -> Case:
    """A `from:`, `outputs:` or `size_of:` naming no tensor, in a spec that repeats a long name thousands of times
    (a few hundred bytes): the "did you mean" search is bounded, the name echoed shortened; exit 2."""
    name = draw(st.sampled_from("nq_")) * draw(st.integers(40, 400))
    count = draw(st.integers(100, 9_000))
    missing = name + draw(st.sampled_from(["x", "y", ".1x", "\u202e", "\u200b", "\n::error::X"]))
    body = f"layers:\n  - repeat: {count}\n    layers: [{{kind: pw, name: {name}, out: 8}}]\n"
    where = draw(st.sampled_from(["from", "join", "outputs", "size_of"]))
    quoted = json.dumps(missing)
    if where == "from":
        body += f"  - {{kind: pw, out: 8, from: {quoted}}}\n"
    elif where == "join":
        body += f"  - {{kind: add, from: [{quoted}, {name}]}}\n"
    elif where == "size_of":
        body += f"  - {{kind: upsample, size_of: {quoted}}}\n"
    else:
        body += f"outputs: [{quoted}]\n"
    command = draw(st.sampled_from([("table", "--format", "json"), ("memory", "--layers"), ("check", "-f", "github"),
                                    ("latency", "--device", "pixel1")]))
    # check traces nothing in a spec with no figures and no budget: "nothing to check" (exit 1) before any name
    return Case(HEAD.replace("32", "8") + body, command, exits=(1, 2) if command[0] == "check" else ())


# ---- 10. ONNX graphs: out of order, self-joins, floods ----------------------------------------------------------

def _onnx(nodes, inputs=None, outputs=None, initializers=(), channels: int = 3) -> bytes:
    from onnx import TensorProto, helper

    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, 8, 8])]
    outputs = outputs or [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)]
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _weight(name: str, out: int, c: int):
    from onnx import TensorProto

    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[out, c, 1, 1])
    tensor.raw_data = bytes(4 * out * c)
    return tensor


@st.composite
def onnx_graphs(draw) -> Case:
    """ONNX files as untrusted as specs: nodes out of topological order (never a node dropped), a node reading a
    tensor nobody writes, joins of a tensor with itself, sigmoids no rule reads, floods of nodes and of unknown
    operators, an input wider than MAX_CHANNELS: exit 2 with one paragraph, or 0 where --unknown zero marks them."""
    from onnx import helper

    kind = draw(st.sampled_from(["order", "dangling", "self join", "sigmoids", "flood", "unknown", "wide"]))
    command = draw(st.sampled_from([("import",), ("table", "--format", "json"), ("import", "--unknown", "zero")]))
    conv = helper.make_node("Conv", ["x", "w1"], ["a"])
    if kind == "order":  # a chain of convs, written last to first
        n = draw(st.integers(2, 8))
        nodes = [conv] + [helper.make_node("Conv", [f"{'a' if i == 0 else f't{i - 1}'}", f"w{i + 2}"], [f"t{i}"])
                          for i in range(n)]
        weights = [_weight("w1", 8, 3)] + [_weight(f"w{i + 2}", 8, 8) for i in range(n)]
        return Case(_onnx(nodes[::-1], initializers=weights), command, suffix=".onnx")
    if kind == "dangling":
        nodes = [conv, helper.make_node("Add", ["a", draw(st.sampled_from(["nobody", "", "a2"])) or "z"], ["y"])]
        return Case(_onnx(nodes, initializers=[_weight("w1", 8, 3)]), command, suffix=".onnx")
    if kind == "self join":
        op = draw(st.sampled_from(["Add", "Concat", "Mul", "Sum"]))
        extra = {"axis": 1} if op == "Concat" else {}
        nodes = [conv, helper.make_node(op, ["a"] * draw(st.integers(2, 4)), ["y"], **extra)]
        return Case(_onnx(nodes, initializers=[_weight("w1", 8, 3)]), command, -1, suffix=".onnx")
    if kind == "sigmoids":
        n = draw(st.integers(1, 10_000))
        nodes = [helper.make_node("Sigmoid", ["x" if i == 0 else f"s{i - 1}"], [f"s{i}"]) for i in range(n)]
        return Case(_onnx(nodes), command, -1, suffix=".onnx")
    if kind == "flood":  # more nodes than MAX_ONNX_NODES: refused while the bytes are walked
        n = draw(st.integers(MAX_ONNX_NODES + 1, 3 * MAX_ONNX_NODES))
        nodes = [helper.make_node("Identity", ["x"], ["x"])] * n
        return Case(_onnx(nodes, outputs=[]), command, suffix=".onnx")
    if kind == "unknown":
        n = draw(st.integers(21, 20_000))
        nodes = [helper.make_node(f"Op{i % 7}", ["x" if i == 0 else f"u{i - 1}"], [f"u{i}"]) for i in range(n)]
        return Case(_onnx(nodes), command, -1, suffix=".onnx")
    pool = [helper.make_node("GlobalAveragePool", ["x"], ["y"])]
    return Case(_onnx(pool, channels=draw(st.integers(MAX_CHANNELS + 1, 2**31 - 1))), command, suffix=".onnx")


# ---- 11. destinations: where a command writes ----------------------------------------------------------------

@st.composite
def destinations(draw) -> Case:
    """--export, import -o and plot --out at a file that exists, a symbolic link, a named pipe, a folder, a device
    or the input itself: refused before any work, nothing written, the pipe never opened (exit 2); a new file is
    written (exit 0)."""
    where = draw(st.sampled_from(DESTINATIONS))
    force = ("--force",) * draw(st.booleans()) if where in ("fifo", "folder", "device", "input") else ()
    if draw(st.booleans()):
        from onnx import helper

        data = _onnx([helper.make_node("Conv", ["x", "w1"], ["a"])], initializers=[_weight("w1", 8, 3)])
        return Case(data, ("import", "-o", "{out}", *force), 0 if where == "new" else 2, ".onnx", where)
    command = draw(st.sampled_from([("table", "--export", "{out}"), ("memory", "--export", "{out}"),
                                    ("check", "--export", "{out}", "--max-macs", "1G")]))
    return Case(HEAD + "layers: [{kind: conv, out: 8}]\n", (*command, *force), 0 if where == "new" else 2,
                destination=where)


# ---- 12. output channels: every format, names full of controls, formulas, Markdown and workflow commands ------

HOSTILE_TEXT = ["=HYPERLINK(\"http://e.example\")", "=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1",
                "_em_", "*b*", "~~s~~", "@alice", "[l](http://x)", "<b>h</b>", "&amp;", "www.e.example",
                "http://e.example", "\n::error file=x::W", "%0A::warning::V", "\x1b]0;T\x07", "\x1b]8;;http://x\x1b\\",
                "\x1b[2J", "\u202e", "\x85", "\x00", "\x7f", "\u200b", "\u2028", "\ufeff", "a", " "]


def quoted(text: str) -> str:
    """YAML double quotes: every character that is not printable escaped."""
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text) + '"'


def hostile_spec(title: str, names: list[str], note: str) -> str:
    layers = "".join(f"  - {{kind: pw, out: 8, name: {quoted(name + str(i))}, note: {quoted(note)}}}\n"
                     for i, name in enumerate(names))
    return (f"name: hostile\ntitle: {quoted(title)}\ninput: {{resolution: 16}}\nlayers:\n"
            f"  - {{kind: conv, out: 8, stride: 2}}\n{layers}budget: {{max_macs: 1}}\n"
            f"variants:\n  v: {{title: {quoted(title)}}}\n"
            f"reference:\n  - {{source: {quoted(title)}, label: {quoted(note)}, macs: '0.01', params: '0.001', "
            f"errata: {{macs: {quoted(note)}}}}}\n")


@st.composite
def output_channels(draw) -> Case:
    """A valid spec whose title, layer names, notes, sources, labels and errata carry formulas, Markdown, workflow
    commands and control characters, through a command in a format: exit 0, or 1 where its budget fails; nothing a
    terminal, a log, a spreadsheet or a Markdown renderer would act on (checked by the runner)."""
    text = st.lists(st.sampled_from(HOSTILE_TEXT), min_size=1, max_size=5).map("".join)
    fmt = draw(st.sampled_from(["rich", "markdown", "csv", "json"]))
    command = draw(st.sampled_from([("table", "--layers"), ("table", "--blocks"), ("breakdown",), ("memory",),
                                    ("memory", "--layers"), ("explain",), ("compare",), ("sweep", "--alpha", "0.5,1"),
                                    ("fit", "--max-macs", "1G"), ("latency", "--device", "pixel1", "--layers"),
                                    ("check",), ("check", "--allow-empty"), ("diff", "v1")]))
    if command[0] == "check" and draw(st.booleans()):
        fmt = "github"
    return Case(hostile_spec(draw(text), draw(st.lists(text, min_size=1, max_size=3)), draw(text)),
                (*command, "--format", fmt), exits=(0, 1))


# ---- 13. number options ---------------------------------------------------------------------------------------

NUMBERS = ["nan", "NaN", "inf", "-inf", "+inf", "1e999", "1e308", "-1e308", "1e-999", "0", "-0", "-1", "²", "٣٢",
           "３２", "9" * 5000, "1" * 101, "0x10", "1_000", " 5 ", "", "5%", "-inf%", "nan%", "1e2", "0.5", "1x",
           "1x100000", "100000x1", "2x3x4", "20ms", "0s", "1e-400ms"]


@st.composite
def number_options(draw) -> Case:
    """Every number option with values that are not numbers, not finite, not ASCII or out of bounds: exit 0 or 2,
    one paragraph, never a traceback."""
    value = draw(st.sampled_from(NUMBERS))
    command = draw(st.sampled_from([
        ("table", "--res", value), ("table", "--alpha", value), ("table", "--rho", value), ("table", "--depth", value),
        ("memory", "--res", value), ("latency", "--device", "pixel1", "--res", value),
        ("latency", "--device", "pixel1", "--alpha", value), ("diff", "v1", "--fail-over", value),
        ("fit", "--max-latency", value, "--device", "pixel1"), ("fit", "--max-macs", value),
        ("fit", "--max-memory", value), ("check", "--max-params", value), ("sweep", "--res", value),
        ("sweep", "--alpha", value), ("fit", "--max-macs", "1G", "--top", value)]))
    return Case(HEAD + "layers: [{kind: conv, out: 8}]\n", command, exits=(0, 1, 2))


CLASSES = {"cycles": cycles(), "exponents": exponents(), "tags": tags(), "variant sizes": variant_sizes(),
           "work": work(), "bad names": bad_names(), "markup and escapes": escapes(), "YAML 1.1 coercions": coercions(),
           "grids": grids(), "backbones": backbones(), "graph references": graph_references(),
           "ONNX graphs": onnx_graphs(), "destinations": destinations(), "output channels": output_channels(),
           "number options": number_options()}
IN_A_PROCESS = ("graph references", "ONNX graphs", "destinations", "output channels", "number options")
"""The classes run each in a process of its own, under a memory cap and a time limit (tests/test_hostile_generated)."""
