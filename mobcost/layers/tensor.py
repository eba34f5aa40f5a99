"""Kinds with no weights and no Mult-Adds by the paper's convention that keep or rearrange one tensor: softmax, LRN,
dropout, flatten, channel split and shuffle, and an imported operator mobcost has no rule for."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, Strict

from mobcost.layers.base import Inputs, Name, Shape, ShapeError, _Free
from mobcost.layers.join import Join
from mobcost.limits import MAX_CHANNELS, ChannelCount, PadPixels, Pixels


class Softmax(_Free):
    """Softmax classifier."""

    kind: Literal["softmax"] = "softmax"
    paper_type: ClassVar[str] = "Softmax"

    def filter_shape(self, x: Shape) -> str:
        return "Classifier"


class LocalResponseNorm(_Free):
    """Local response normalization across `size` neighbouring channels (AlexNet §3.3, GoogLeNet); PyTorch's
    fields: b = a / (k + α/size · Σ a²)^β."""

    kind: Literal["lrn"] = "lrn"
    size: ChannelCount = 5  # channels summed over, at most every channel
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0
    paper_type: ClassVar[str] = "LRN"

    def filter_shape(self, x: Shape) -> str:
        return f"size {self.size}"


class Dropout(_Free):
    """Dropout: the identity at inference."""

    kind: Literal["dropout"] = "dropout"
    p: float = Field(0.5, ge=0, lt=1)
    paper_type: ClassVar[str] = "Dropout"

    def filter_shape(self, x: Shape) -> str:
        return f"p = {self.p:g}"


class Flatten(_Free):
    """H×W×C → 1×1×(H·W·C), before a fully connected layer."""

    kind: Literal["flatten"] = "flatten"
    paper_type: ClassVar[str] = "Flatten"

    def output_shape(self, x: Shape) -> Shape:
        return Shape(1, 1, x.size)


class Unknown(Join):
    """An operator of an imported model that mobcost has no rule for, kept as a marked row of 0 Mult-Adds and 0
    parameters (`mobcost import --unknown zero`): never a silent zero. It reads every tensor the operator reads
    (`from:`, one name or a list; default the previous layer's output) and gives the output shape ONNX shape inference
    gave (`shape: [h, w, c]`), or its first input's shape where none is written."""

    kind: Literal["unknown"] = "unknown"
    from_: Name | list[Name] | None = Field(None, alias="from", max_length=64)
    op: str = Field(pattern=r"^[A-Za-z0-9_.:]{1,64}$")  # the ONNX operator, e.g. GridSample
    shape: Annotated[tuple[Pixels, Pixels, ChannelCount], Strict(False)] | None = None  # [height, width, channels] of its output
    at: Annotated[tuple[Pixels, Pixels, ChannelCount], Strict(False)] | None = None  # the input `shape` is known at
    paper_type: ClassVar[str] = "Unknown"
    reads_list: ClassVar[bool] = False  # one `from:` name, or none, reads one tensor as any layer does

    def combine(self, inputs: Inputs) -> Shape:
        return inputs[0][1]

    def output_shape(self, x: Shape) -> Shape:
        if self.at is not None and (x.h, x.w, x.c) != self.at:
            raise ShapeError("at", f"the output shape of ONNX {self.op} is known only for the input it was imported "
                                   f"with, {Shape(*self.at)}: at another width or resolution nothing says what it is")
        return Shape(*self.shape) if self.shape else x

    def filter_shape(self, x: Shape) -> str:
        return f"{self.op}: not counted"


class Split(_Free):
    """Channel split (ShuffleNetV2 §3, Fig. 3c): the input's channels in `sections` equal parts, keeping part
    `take` (0-based), as `x.chunk(sections, dim=1)[take]`; no Mult-Adds, no weights."""

    kind: Literal["split"] = "split"
    sections: Annotated[int, Field(ge=2, le=MAX_CHANNELS)] = 2
    take: Annotated[int, Field(ge=0, lt=MAX_CHANNELS)] = 0
    paper_type: ClassVar[str] = "Split"

    def output_shape(self, x: Shape) -> Shape:
        if x.c % self.sections:
            raise ShapeError("sections", f"{self.sections} sections must divide the input's {x.c} channels")
        if self.take >= self.sections:
            raise ShapeError("take", f"part {self.take} of {self.sections} does not exist (parts count from 0)")
        return Shape(x.h, x.w, x.c // self.sections)

    def filter_shape(self, x: Shape) -> str:
        return f"part {self.take} of {self.sections}"


class Shuffle(_Free):
    """Channel shuffle (ShuffleNet §3.1, Fig. 1): c channels as `groups` × c/groups, transposed; a permutation, no
    Mult-Adds, no weights."""

    kind: Literal["shuffle"] = "shuffle"
    groups: Annotated[int, Field(ge=2, le=MAX_CHANNELS)] = 2
    paper_type: ClassVar[str] = "Shuffle"

    def output_shape(self, x: Shape) -> Shape:
        if x.c % self.groups:
            raise ShapeError("groups", f"{self.groups} groups must divide the input's {x.c} channels")
        return x

    def filter_shape(self, x: Shape) -> str:
        return f"{self.groups} groups"


class Pad(_Free):
    """Zero padding (nn.ZeroPad2d, ONNX Pad with zeros, TensorFlow's explicit `same` padding before a strided conv):
    `pads: [top, left, bottom, right]` pixels of zeros around the feature map; no Mult-Adds, no weights."""

    kind: Literal["pad"] = "pad"
    pads: list[PadPixels] = Field(min_length=4, max_length=4)  # top, left, bottom, right
    paper_type: ClassVar[str] = "Pad"

    def output_shape(self, x: Shape) -> Shape:
        top, left, bottom, right = self.pads
        return Shape(x.h + top + bottom, x.w + left + right, x.c)

    def filter_shape(self, x: Shape) -> str:
        return "pad " + " ".join(map(str, self.pads)) + " (t l b r)"


class Slice(_Free):
    """A channel range, `x[:, start:stop]` (GhostNet's ghost module keeps the first `out` of its concatenated
    channels; ONNX Slice on the channel axis): channels start … stop − 1, counted from 0; `stop` omitted is the
    last channel. No Mult-Adds, no weights."""

    kind: Literal["slice"] = "slice"
    start: Annotated[int, Field(ge=0, lt=MAX_CHANNELS)] = 0
    stop: ChannelCount | None = None
    paper_type: ClassVar[str] = "Slice"

    def output_shape(self, x: Shape) -> Shape:
        stop = x.c if self.stop is None else self.stop
        if stop > x.c:
            raise ShapeError("stop", f"channels {self.start} to {stop} do not exist in an input of {x.c} channels")
        if self.start >= stop:
            raise ShapeError("start", f"channel range {self.start} to {stop} is empty (start must be below stop)")
        return Shape(x.h, x.w, stop - self.start)

    def filter_shape(self, x: Shape) -> str:
        return f"channels {self.start}:{x.c if self.stop is None else self.stop}"
