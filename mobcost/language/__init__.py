"""The spec language: the only package that reads YAML.

yaml.py reads a spec's text safely (every limit on the text), schema.py says what a spec may contain and validates
it, locate.py turns a validation error into file, line, layer and field, zoo.py names the built-in models.
Errors in a spec become a SpecError that names the file, the line and column, the layer and the field.
"""

from mobcost.errors import TORCH_CPU, MobcostError, Path_, Problem, SpecError
from mobcost.language.schema import (BN_PARAMS, LIBRARY, Budget, Builder, Input, MakeDivisible, Network, ParamCounting,
                                 Printed, Reference, Size, Variant, expanded_rows, load_spec, parse_size, parse_spec,
                                 spec_schema)
from mobcost.language.shipped import builtin_dir, builtin_models
from mobcost.language.zoo import ModelRef, load_model, locate

__all__ = ["BN_PARAMS", "LIBRARY", "TORCH_CPU", "Budget", "Builder", "Input", "MakeDivisible", "MobcostError",
           "ModelRef", "Network", "ParamCounting", "Path_", "Printed", "Problem", "Reference", "Size", "SpecError",
           "Variant", "builtin_dir", "builtin_models", "expanded_rows", "load_model", "load_spec", "locate",
           "parse_size", "parse_spec", "spec_schema"]
