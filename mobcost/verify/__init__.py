"""Verification against PyTorch: `self` builds the spec as a torch module (the arithmetic's check), `reference`
holds the spec to the implementation it names (torchvision's builder, or any callable) and to the counters run on
that implementation. The only room that imports torch; only the `verify` command imports it."""

from mobcost.verify.self import TORCH_MODULE, LayerCheck, build, input_tensor, verify

__all__ = ["TORCH_MODULE", "LayerCheck", "build", "input_tensor", "verify"]
