"""`mobcost models` reads a shipped index (configs/models.json) instead of parsing and tracing every config; the
index is what parsing and tracing give, made from these very configs (its digest), or it is not used at all."""

import json

import mobcost.api
from mobcost.language.shipped import INDEX, builtin_dir, configs_digest, read_index


def test_the_shipped_index_is_what_the_configs_give():
    index = json.loads((builtin_dir() / INDEX).read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(mobcost.api.models_computed()))
    assert index == {"digest": configs_digest(), "models": fresh}, (
        "configs/models.json is stale: python -c 'import mobcost.api as a; a.write_models_index()'")


def test_an_index_made_from_other_configs_is_not_used(tmp_path, monkeypatch):
    (tmp_path / "mobilenet_v1.yaml").write_bytes((builtin_dir() / "mobilenet_v1.yaml").read_bytes())
    (tmp_path / INDEX).write_text(json.dumps({"digest": "0" * 64, "models": [{"name": "stale"}]}))
    monkeypatch.setattr("mobcost.language.shipped.builtin_dir", lambda: tmp_path)
    assert read_index() is None
    (tmp_path / INDEX).write_text(json.dumps({"digest": configs_digest(), "models": [{"name": "current"}]}))
    assert read_index() == [{"name": "current"}]


def test_models_prints_the_same_table_from_the_index_and_computed(mobcost, monkeypatch):
    shown = mobcost("models", "-f", "markdown").stdout
    monkeypatch.setattr("mobcost.language.shipped.read_index", lambda: None)
    assert mobcost("models", "-f", "markdown").stdout == shown
