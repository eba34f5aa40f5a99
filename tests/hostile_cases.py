"""Generators of hostile inputs, one hypothesis strategy per class (issue 10): each draws a small spec (a few hundred
bytes) and the command to run it with. tests/test_hostile_generated.py holds every draw to its outcome (exit 2 with
one located paragraph, or, for valid specs with hostile text, exit 0 and nothing unsafe printed);
bench/hostile.py runs draws of each class in fresh processes for their time and peak memory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from hypothesis import strategies as st

from mobcost.limits import MAX_LAYERS, MAX_TRACED_ROWS
from mobcost.language import builtin_models

UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What no output of mobcost may contain: control characters but tab and newline, and bidi overrides."""
HEAD = "name: hostile\ntitle: Hostile\ninput: {resolution: 32}\n"


@dataclass(frozen=True)
class Case:
    text: str  # the spec
    command: tuple[str, ...] = ("table", "--format", "json")  # the spec's path goes after the first word
    exit_code: int = 2

    def argv(self, path: str) -> list[str]:
        return [self.command[0], path, *self.command[1:]]


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
    layers = draw(st.integers(MAX_TRACED_ROWS // 500 + 1, MAX_LAYERS - 1))  # each command below tries 501 or more
    spec = HEAD.replace("32", "8") + f"layers:\n  - repeat: {layers}\n    layers: [{{kind: pw, out: 8}}]\n"
    command = draw(st.sampled_from([
        ("sweep", "--alpha", "0.25:1.25:0.002", "--convention", draw(st.sampled_from(["torch", "keras", "ptflops"]))),
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
    """sweep and fit with odd --alpha and --res values, and odd model references: exit 0 or 2, never a traceback."""
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


CLASSES = {"cycles": cycles(), "exponents": exponents(), "tags": tags(), "variant sizes": variant_sizes(),
           "work": work(), "bad names": bad_names(), "markup and escapes": escapes(), "YAML 1.1 coercions": coercions(),
           "grids": grids(), "backbones": backbones()}
