"""The command line: a thin shell over the library (parse, call, render, exit codes), one module per command group.

Exit codes: 0 success (also when the reader of a pipe stops early, as `| head` does), 1 a check failed, 2 bad input
(a spec, a model name or an option) or output that cannot be written, 130 interrupted (Ctrl-C).
"""

# isort: skip_file
from mobcost.cli.app import app, main  # first: it takes Ctrl-C before the heavy imports
from mobcost.cli import network, checks, latency, space  # noqa: F401  (each registers its commands on `app`, in this order)

__all__ = ["app", "main"]
