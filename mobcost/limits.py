"""Limits on untrusted specs, all in one place: each bounds the time or memory one spec can cost.

Every limit is checked before the work it guards, so a hostile spec fails fast with an error, never a hang,
a traceback or an out-of-memory kill. The README's "Limits" section lists them with the same numbers.

| limit            | bounds                                                    | enforced in                                |
|------------------|-----------------------------------------------------------|--------------------------------------------|
| MAX_FILE_BYTES   | a spec file's size                                        | spec.yaml.read_spec_file, from stat()      |
| MAX_DEPTH        | nesting of YAML mappings and lists, aliases expanded      | spec.yaml.check_events, before composing   |
| MAX_NODES        | YAML nodes with aliases expanded ("billion laughs")       | spec.yaml.check_events, before constructing |
|                  | a backbone's nodes with its includer's                    | spec.schema, before including its layers   |
| MAX_NUMBER_CHARS | the length of one number literal, whatever its tag        | spec.yaml.check_events, before constructing |
| MAX_TEXT_CHARS   | the length of any one value (a name, a title, a note)     | spec.yaml.check_events, before constructing |
| MAX_LAYERS       | rows after expanding repeats and blocks (and included)    | spec, repeats multiplied out before any    |
|                  |                                                           | expanding; trace.trace, row by row         |
| MAX_PIXELS       | resolution, kernel, stride, padding, every feature map    | field types (limits.Pixels); trace, per layer     |
| MAX_CHANNELS     | input channels, out, classes, every α-scaled feature map  | field types (limits.ChannelCount); trace, per layer   |
| MAX_COUNT        | a budget (max_macs, max_params)                           | spec.schema.parse_size, before the int     |
| MAX_ONNX_BYTES   | an ONNX file's size (weights in external data: never read)| importers.onnx.read_model, from stat()     |
| MAX_ONNX_NODES   | an ONNX graph's operator nodes                            | importers.protobuf, while walking the bytes|
| MAX_ONNX_INITIALIZERS | an ONNX graph's initializers (weights, constants)    | importers.protobuf, while walking the bytes|
| MAX_GRID         | values of one --alpha or --res list or range (sweep, fit) | sizing.parse_grid, before building the list|
| MAX_VARIANTS     | α × resolution variants of one sweep or fit               | trace.plan_work, before the first trace    |
| MAX_TRACED_ROWS  | rows traced in full by one command: variants × layers     | trace.plan_work, before the first trace    |
|                  | (sweep --convention/--device, fit --max-memory/--device,  |                                            |
|                  | check)                                                    |                                            |
| MAX_SWEPT_ROWS   | rows replayed by sweep and fit (paper counting)           | trace.sweep, before the first trace        |
| MAX_MULTIPLIER   | a width or depth coefficient (compound scaling, --depth)  | spec.schema.Multiplier; trace._scaling     |
| MAX_BATCH        | a batch of crops (`batch:` on an upsample)                | field type (limits.BatchCount)             |
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, Strict
from pydantic_core import PydanticCustomError

from mobcost.errors import MobcostError, shown

MAX_FILE_BYTES = 1_000_000  # the shipped configs are about 5 kB
MAX_DEPTH = 32  # a network nests 2 levels per repeat: 32 allows 14 nested repeats
MAX_NODES = 50_000  # about 8,000 written-out layers
MAX_NUMBER_CHARS = 100  # Python refuses to read integers of more than 4,300 digits
MAX_TEXT_CHARS = 1_000  # the shipped configs' longest value is under 200 characters
MAX_LAYERS = 10_000  # the largest MobileNets have about 100 rows
MAX_PIXELS = 2**16  # 65,536: ImageNet models run at 224
MAX_CHANNELS = 2**20  # 1,048,576: MobileNets stop at 1,280
MAX_COUNT = 10**18  # a budget of a billion billion Mult-Adds
MAX_ONNX_BYTES = 2**31  # protobuf's own limit on one message; larger models keep their weights in external data
MAX_ONNX_NODES = 100_000  # torchvision exports: ResNet-50 169 to 375 nodes, SSDLite320 879
MAX_ONNX_INITIALIZERS = 200_000  # weights and constants: two a node at most in the exports above
MAX_LATENCY_MS = 86_400_000  # a latency budget: a day
MAX_PERCENT = 10**6  # --fail-over: growth by ten thousand times
MAX_GRID = 1_000  # so a sweep has at most a million α × resolution variants
MAX_MULTIPLIER = 16  # EfficientNet-B7 scales depth by 3.1 and width by 2.0
MAX_BATCH = 10_000  # Faster-RCNN keeps 300 proposals (TF) or 1,000 (torchvision's rpn_post_nms_top_n_test)
MAX_VARIANTS = 4_096  # α × resolution values of one sweep or fit: about a second of tracing and rendering
MAX_TRACED_ROWS = 15_000  # rows (a block counts 1) traced in full by one command: fit --device's or --max-memory's
# default grid (696 variants) on MobileNetV2 (21 rows), 1.3 to 1.6 s, the slowest work accepted (bench/work_plan.py)
MAX_SHOWN_ROWS = 1_000  # rows of one rich table (the other formats give all): ten thousand take seconds to lay out
MAX_SWEPT_ROWS = 60_000  # rows swept by replaying each α's trace at every resolution, about a second: fit's default
# grid on up to 86 rows (the zoo has 83 at most)

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def decimal_of(text: str) -> Decimal | None:
    """The one way mobcost turns text into a number: ASCII digits only (no `٣٢`), at most MAX_NUMBER_CHARS
    characters, and a decimal exponent within ±MAX_NUMBER_CHARS, so that `1e-999999999` builds no huge integer
    and no budget rounds to 0. None for anything else."""
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS or not _NUMBER.fullmatch(text):
        return None
    number = Decimal(text)
    return number if not number or abs(number.adjusted()) <= MAX_NUMBER_CHARS else None


def number_of(text: str, what: str, low, high, whole: bool = False, above: bool = False) -> Decimal:
    """The one way an option's number is read (--res, --alpha, --rho, --depth, --fail-over, a budget, a range's
    bounds): decimal_of's ASCII digits, finite by construction (no `nan`, `inf` or `1e999`), then within
    [low, high] (above `low` when `above`), a whole number when `whole`; else one clear MobcostError naming `what`."""
    number = decimal_of(text) if isinstance(text, str) else None
    if number is None or number > high or number < low or (above and number == low) or (
            whole and number != number.to_integral_value()):
        kind = "a whole number" if whole else "a number"
        span = f"above {low:,}" if above else f"from {low:,}"
        raise MobcostError(f"{what} takes {kind} {span} up to {high:,} in ASCII digits (found {shown(text)!r})"
                           + (f" {LIMIT}" if number is not None and number > high else ""))
    return number



LIMIT = "(mobcost's limit, see docs/limits.md)"  # the words every limit's error ends with


def _at_most(limit: int, unit: str) -> AfterValidator:
    def check(value: int) -> int:
        if value > limit:
            raise PydanticCustomError("mobcost_limit", "expected at most {limit} {unit} (mobcost's limit, see "
                                      "docs/limits.md)", {"limit": f"{limit:,}", "unit": unit})
        return value

    return AfterValidator(check)


Pixels = Annotated[int, Field(gt=0), _at_most(MAX_PIXELS, "pixels")]
PadPixels = Annotated[int, Field(ge=0), _at_most(MAX_PIXELS, "pixels")]
ChannelCount = Annotated[int, Field(gt=0), _at_most(MAX_CHANNELS, "channels")]
BatchCount = Annotated[int, Field(gt=0), _at_most(MAX_BATCH, "crops")]
PixelPair = Annotated[tuple[Pixels, Pixels], Strict(False)]  # [height, width]: a YAML list becomes the pair
