"""Errors stay short (issue 23): at most 20 names and "and N more", the union's real error only, names a repeat
generates scoped and explained, shipped configs named by their model name."""

from mobcost.errors import MAX_LISTED
from mobcost.language.shipped import builtin_dir, builtin_models

HEAD = "name: n\ntitle: N\ninput: {resolution: 32}\nlayers:\n"


def test_an_unknown_model_lists_at_most_20_names(mobcost):
    err = mobcost("table", "mobilenet_v5").stderr
    names = builtin_models()
    assert MAX_LISTED == 20 and f"and {len(names) - 20} more)" in err
    assert list(names)[19] in err and f" {list(names)[20]}," not in err


def test_an_se_mapping_reports_its_own_mistake_only(mobcost, tmp_path):
    spec = tmp_path / "se.yaml"
    spec.write_text(HEAD + "  - {kind: bottleneck, t: 6, out: 16, se: {reductio: 4}}\n")
    err = mobcost("table", str(spec)).stderr
    assert "field 'se.reductio'" in err and "did you mean 'reduction'?" in err
    assert "boolean" not in err and len(err.strip().splitlines()) == 1


def test_a_name_a_repeat_generates_is_scoped_and_explained(mobcost, tmp_path):
    named = tmp_path / "named.yaml"
    named.write_text(HEAD + "  - name: stage\n    repeat: 2\n    layers:\n      - {kind: dw, name: start}\n"
                     "      - {kind: pw, out: 8, from: start}\n")
    table = mobcost("table", str(named), "-f", "markdown").stdout
    assert "| stage/start.1 |" in table and "| stage/start.2 |" in table  # the repeat's name scopes its layers'
    twice = tmp_path / "twice.yaml"
    twice.write_text(HEAD + "  - repeat: 2\n    layers:\n      - {kind: dw, name: start}\n" * 2)
    err = mobcost("table", str(twice)).stderr
    assert "'start.1', the name 'start' takes in pass 1 of its repeat" in err and "name the repeat" in err


def test_a_shipped_config_is_named_by_its_model_name(mobcost):
    err = mobcost("table", "v1:shalow").stderr
    assert err.startswith("mobcost: mobilenet_v1 has no variant 'shalow'") and "did you mean 'shallow'?" in err
    assert str(builtin_dir()) not in err and ".yaml" not in err
