"""Fuzz: 10,000 mutated versions of the shipped configs through the CLI, in-process and seeded.

Each mutant has one to three edits: a field or list item deleted, a value retyped or set to a boundary (0, −1,
the limits and one past them, 10¹², NaN, a string, a list, null), an item duplicated, a key misspelled, or a
line of the YAML text duplicated, deleted, cut short or given a stray character; the boundaries and strays include
issue 10's hostile classes (exponents, YAML 1.1 words, tags, alias cycles, markup and terminal escapes).
Whatever the mutant, mobcost must end with exit 0, 1 or 2, never a traceback and never a control character,
and print nothing on stdout when it fails.
bench/fuzz.py times this run (about 100 s for 10,000 on a 2-core machine).
"""

import functools
import json
import random
from collections import Counter
from pathlib import Path

import typer.main
import typer.testing
import yaml

from hostile_cases import MARKUP, UNPRINTABLE, UNSAFE
from mobcost.limits import MAX_CHANNELS, MAX_LAYERS, MAX_PIXELS

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))
MUTANTS = 10_000
SEED = 6

BOUNDARIES = [None, True, False, "", "x", "classes", "same", "global", "1e999", "NaN", 0, -1, 1, 2, 1.5,
              float("nan"), float("inf"), 10**12, 10**100, MAX_PIXELS, MAX_PIXELS + 1, MAX_CHANNELS,
              MAX_CHANNELS + 1, MAX_LAYERS + 1, [], {}, [1, 2], {"kind": "conv"},
              # issue 10's classes (tests/hostile_cases.py): exponents, YAML 1.1 words, other digits, markup, escapes
              "1e-99999999", "1e999999999", "1e-999999999999", "on", "yes", "064", "3:44", "٣٢", *UNSAFE, *MARKUP]
STRAYS = ["\t", ":", "[", "{", "- ", "&a ", "*a", "!!python/object:os.system ", "\x00", "\xff", "'", "#", "<<: ",
          "&x [*x] ", "!!int abc ", "!!float x ", "!!bool maybe ", "1e-99999999 ", "on ", "064 ", "\x1b[2J"]
COMMANDS = [["table", "--format", "json"]] * 6 + [["check", "--format", "json"], ["breakdown", "--format", "csv"],
                                                    ["compare", "--format", "markdown"],
                                                    ["sweep", "--alpha", "1,0.5", "--format", "json"]]


def places(node, path=()):
    """Every (container, key) in a YAML data tree."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield node, key, path + (key,)
        yield from places(value, path + (key,))


def mutate_data(rng: random.Random, data) -> None:
    spots = list(places(data))
    in_layers = [spot for spot in spots if spot[2][:1] == ("layers",)]
    container, key, _ = rng.choice(in_layers if in_layers and rng.random() < 0.6 else spots)
    edit = rng.choice(["delete", "boundary", "boundary", "duplicate", "misspell", "retype"])
    if edit == "delete":
        del container[key]
    elif edit == "boundary":
        container[key] = json.loads(json.dumps(rng.choice(BOUNDARIES)))
    elif edit == "duplicate" and isinstance(container, list):
        container.insert(key, json.loads(json.dumps(container[key])))
    elif edit == "misspell" and isinstance(container, dict) and isinstance(key, str) and len(key) > 1:
        i = rng.randrange(len(key) - 1)
        container[key[:i] + key[i + 1] + key[i] + key[i + 2:]] = container.pop(key)
    else:  # retype: the value as a string, a list or a mapping
        value = container[key]
        container[key] = rng.choice([str(value), [value], {"value": value}])


def mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return rng.choice(STRAYS)
    i = rng.randrange(len(lines))
    edit = rng.choice(["duplicate", "delete", "cut", "stray"])
    if edit == "duplicate":
        lines.insert(i, lines[i])
    elif edit == "delete":
        del lines[i]
    elif edit == "cut":
        return text[:rng.randrange(len(text))]
    else:
        column = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:column] + rng.choice(STRAYS) + lines[i][column:]
    return "".join(lines)


def mutants(rng: random.Random):
    """(YAML text, command) pairs: a quarter are a config's own text edited one to three times; the rest are its
    data edited one to three times, written as JSON (which YAML reads, and which is much faster to write than
    YAML), and sometimes edited as text as well."""
    texts = [path.read_text(encoding="utf-8") for path in CONFIGS]
    originals = [json.dumps(yaml.safe_load(text)) for text in texts]
    for _ in range(MUTANTS):
        k = rng.randrange(len(texts))
        if rng.random() < 0.25:
            text = texts[k]
            for _ in range(rng.randint(1, 3)):
                text = mutate_text(rng, text)
        else:
            data = json.loads(originals[k])  # a deep copy
            for _ in range(rng.randint(1, 3)):
                mutate_data(rng, data)
            text = json.dumps(data, ensure_ascii=False)
            if rng.random() < 0.2:
                text = mutate_text(rng, text)
        yield text, rng.choice(COMMANDS)


def test_mutated_configs_never_crash(mobcost, tmp_path, monkeypatch):
    # build the click command once, not once per run: that alone costs more than most runs
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command))
    spec = tmp_path / "mutant.yaml"
    codes = Counter()
    for n, (text, command) in enumerate(mutants(random.Random(SEED))):
        spec.write_text(text, encoding="utf-8", errors="surrogateescape")
        result = mobcost(command[0], str(spec), *command[1:])
        context = f"mutant {n} ({' '.join(command)}):\n{text}\n{result.stderr}"
        assert result.exit_code in (0, 1, 2), context + repr(result.exception)
        assert "Traceback" not in result.stderr + result.stdout, context
        assert not UNPRINTABLE.search(result.stderr + result.stdout), context  # no terminal escapes reach it
        if result.exit_code == 2:
            assert result.stdout == "" and result.stderr.startswith("mobcost: "), context
        codes[result.exit_code] += 1
    assert sum(codes.values()) == MUTANTS
    assert set(codes) == {0, 1, 2}  # the mutants reach every outcome, not only parse errors
