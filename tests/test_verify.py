"""mobcost against PyTorch and against the counters it names, on the torch module built from the same spec.

Needs torch (CI: pip install torch==2.14.1 torchvision==0.29.1) and the counters (pip install '.[counters]'); skipped
without them. tests/test_reference.py holds the specs to torchvision's own models.
"""

import logging
import sys
import warnings

import pytest
from typer.testing import CliRunner
from zoo import MODELS, analysis, leaf_kinds

import mobcost
from mobcost.cli import app
from mobcost.conventions import CONVENTIONS, counted, operations, totals

torch = pytest.importorskip("torch")
verify = pytest.importorskip("mobcost.verify")
reference = pytest.importorskip("mobcost.verify.reference")


@pytest.mark.parametrize("model", MODELS)
def test_every_layer_agrees_with_pytorch(model):
    a = analysis(model)
    checks = verify.verify(a)
    assert [c.name for c in checks if not c.ok] == []
    assert sum(c.torch_flops for c in checks) == 2 * a.macs  # FlopCounterMode: 2 FLOPs per Mult-Add
    assert sum(c.torch_params for c in checks) == a.params_counted("torch")


def test_every_leaf_kind_has_a_torch_module():
    assert leaf_kinds() == set(verify.TORCH_MODULE)


def test_verify_counts_v1_as_the_paper():
    """MobileNets V1 Table 1 at 224: the first conv, 3·3·3·32 weights on a 112×112 output."""
    conv1 = verify.verify(mobcost.analyze("v1"))[0]
    assert (conv1.torch_shape, conv1.torch_macs) == ((1, 32, 112, 112), 3 * 3 * 3 * 32 * 112 * 112)
    assert conv1.torch_params == 3 * 3 * 3 * 32 + 2 * 32  # weights, batch-norm γ and β


# ---- the counters, each run as its README says, on a fresh module built from the spec -------------------------
# (tests/test_reference.py runs them on torchvision's own models)

def _quiet():
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)


COUNTERS = reference.COUNT  # as `verify --against` runs them
ptflops_count = COUNTERS["ptflops"]


@pytest.mark.parametrize("tool", COUNTERS)
@pytest.mark.parametrize("model", MODELS)
def test_each_convention_matches_its_tool(model, tool):
    pytest.importorskip(reference.MODULE.get(tool, tool))
    _quiet()
    a = analysis(model)
    assert COUNTERS[tool](verify.build(a), verify.input_tensor(a)) == totals(a, tool)


def test_ptflops_double_count_is_the_functional_patch():
    """ptflops issue 139: nn.ReLU and pooling modules are counted by their hook and again by the patched functional
    they call. Without functional counting the bug's share goes, and so do the counts that only the patched
    functionals make: softmax, swish (nn.SiLU has no module hook) and LRN's element-wise operations."""
    pytest.importorskip("ptflops")
    _quiet()
    a = analysis("every_kind")
    ptflops = CONVENTIONS["ptflops"]
    hooked = [row for row in a.rows if "method" not in row.layer.functional]  # a tensor method: neither hook nor patch
    bug = sum(ptflops.rules[op].extra(row) for row in hooked for op in operations(row))
    relu = sum(row.output.size for row in a.rows if getattr(row.layer, "act", None) in ("relu", "gelu"))
    pools = sum(row.input.size for row in hooked if row.kind in ("avgpool", "maxpool"))
    upsample = sum(row.output.size for row in a.rows if row.kind == "upsample")
    assert bug == relu + pools + upsample
    functional = sum(ptflops.rules[op].count(row) for row in a.rows for op in operations(row)
                     if op in ("softmax", "lrn") or (op == "act" and row.layer.act in ("swish", "silu")))
    macs, _ = ptflops_count(verify.build(a), verify.input_tensor(a), count_functional=False)
    assert macs == counted(a, "ptflops").macs - bug - functional


# ---- the command ------------------------------------------------------------------------------------------

runner = CliRunner()


def test_verify_command_agrees():
    result = runner.invoke(app, ["verify", "v1@0.25_128", "-f", "markdown"])
    assert result.exit_code == 0, result.output
    assert "30 of 30 layers agree with PyTorch" in result.stdout


def test_verify_command_shows_a_mismatch(monkeypatch):
    wrong = dict(verify.TORCH_MODULE, pw=lambda row: torch.nn.Conv2d(row.input.c, row.output.c, 1, bias=True))
    monkeypatch.setattr(verify.self, "TORCH_MODULE", wrong)
    result = runner.invoke(app, ["verify", "v1@0.25_128", "-f", "markdown"])
    assert result.exit_code == 1
    sep1_pw = next(line for line in result.stdout.splitlines() if line.startswith("| sep1/pw "))
    # the extra biases: 16 of them at α = 0.25 (int(0.25 · 64))
    assert f"| {8 * 16 + 2 * 16:,} | {8 * 16 + 16 + 2 * 16:,} |" in sep1_pw and sep1_pw.endswith("MISMATCH |")
    assert "17 of 30 layers agree" in result.stdout  # the 13 pointwise layers differ


def test_verify_without_torch_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    for name in [name for name in sys.modules if name.startswith("mobcost.verify")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(mobcost, "verify")
    result = runner.invoke(app, ["verify", "v1"])
    assert result.exit_code == 2
    assert "pip install 'mobcost[torch]'" in result.output


def test_even_kernel_with_same_padding_is_refused(tmp_path):
    spec = tmp_path / "even.yaml"
    spec.write_text("name: even\ntitle: Even\ninput: {resolution: 8}\nlayers:\n  - {kind: conv, kernel: 2, out: 4}\n")
    result = runner.invoke(app, ["verify", str(spec)])
    assert result.exit_code == 2 and "odd kernels" in result.output
