"""Shell completion (issue 23): commands, and model, variant and device names."""

from typer.testing import CliRunner

from mobcost.cli import app
from mobcost.language.shipped import builtin_models
from mobcost.latency.device import devices


def complete(words: str) -> list[str]:
    """What bash completion offers for the last word of `words`."""
    env = {"_MOBCOST_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    return CliRunner().invoke(app, [], env=env, prog_name="mobcost").stdout.split()


def test_model_names_complete():
    assert complete("mobcost table mobilenet_v") == [m for m in builtin_models() if m.startswith("mobilenet_v")]
    assert "ssdlite320_mobilenet_v3_large" in complete("mobcost compare v1 ssd")


def test_variants_complete_after_the_colon():
    # mobilenet_v1.yaml declares conv, shallow, keras and features
    assert complete("mobcost table v1:s") == ["v1:shallow"]
    assert set(complete("mobcost diff v1 v1:")) == {"v1:conv", "v1:shallow", "v1:keras", "v1:features"}


def test_device_names_complete():
    assert complete("mobcost latency v2 --device pixel1") == [d for d in devices() if d.startswith("pixel1")]
    assert complete("mobcost devices pixel") == list(devices())
