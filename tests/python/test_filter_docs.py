"""The espcn filter's options agree wherever they are stated.

Three places name the filter's options, their named values and defaults:
vf_espcn.c's AVOption table (what `ffmpeg -h filter=espcn` prints),
filter/espcn.texi (the one source of FFmpeg's documentation of the filter,
inserted into doc/filters.texi by scripts/build_ffmpeg.sh) and README.md's
option table. This test reads all three as text (no FFmpeg needed; well under
a second) and fails naming the option and the place that disagrees.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VF_ESPCN = ROOT / "filter" / "vf_espcn.c"
TEXI = ROOT / "filter" / "espcn.texi"
README = ROOT / "README.md"


def c_entries(table):
    """The brace-enclosed entries at the top level of a C array initializer."""
    entries, depth, start = [], 0, None
    for i, ch in enumerate(table):
        if ch == "{":
            depth += 1
            if depth == 1:
                start = i
        elif ch == "}":
            if depth == 1:
                entries.append(table[start + 1 : i])
            depth -= 1
    return entries


def avoptions():
    """{option: {"default": str, "values": set or None}} from vf_espcn.c."""
    src = VF_ESPCN.read_text()
    begin = src.index("static const AVOption espcn_options[]")
    table = src[src.index("{", begin) + 1 : src.index("};", begin)]
    options, consts = {}, {}
    for entry in c_entries(table):
        strings = re.findall(r'"((?:[^"\\]|\\.)*)"', entry)
        if not strings:  # { NULL }
            continue
        name = strings[0]
        kind = re.search(r"AV_OPT_TYPE_(\w+)", entry).group(1)
        unit = re.search(r'\.unit\s*=\s*"([^"]+)"', entry)
        unit = unit.group(1) if unit else None
        default = re.search(r"\{\s*\.(i64|str|dbl)\s*=\s*([^}]*?)\s*\}", entry).group(2)
        if kind == "CONST":
            consts.setdefault(unit, {})[default] = name
        else:
            options[name] = {"default": default, "unit": unit}
    result = {}
    for name, o in options.items():
        named = consts.get(o["unit"]) if o["unit"] else None
        default = o["default"]
        if named is not None:
            assert default in named, f"vf_espcn.c: {name}'s default {default} is none of its constants"
            default = named[default]
        elif default == "NULL":
            default = "none"
        result[name] = {"default": default, "values": set(named.values()) if named else None}
    return result


def texi_options():
    """The same from espcn.texi's top-level @table @option."""
    lines = TEXI.read_text().splitlines()
    start = lines.index("@table @option")
    options, current, depth = {}, None, 0
    for line in lines[start + 1 :]:
        if line.startswith("@table"):
            depth += 1
            continue
        if line == "@end table":
            if depth == 0:
                break
            depth -= 1
            continue
        item = re.match(r"@item (\S+)$", line)
        if item and depth == 0:
            current = options.setdefault(item.group(1), {"text": "", "values": set()})
        elif item and depth == 1:
            current["values"].add(item.group(1))
        elif current is not None and depth == 0:
            current["text"] += line + "\n"
    result = {}
    for name, o in options.items():
        text = " ".join(o["text"].split())
        match = re.search(r"Default is @code\{([^}]*)\}", text)
        if match:
            default = match.group(1)
        elif re.search(r"When not set \(the default\)", text):
            default = "none"
        else:
            default = None
        result[name] = {"default": default, "values": o["values"] or None}
    return result


def readme_options():
    """The same from README.md's table headed | option | values | default |."""
    lines = README.read_text().splitlines()
    header = next(i for i, l in enumerate(lines) if re.match(r"\|\s*option\s*\|\s*values\s*\|\s*default\s*\|", l))
    result = {}
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        values = set(re.findall(r"`([^`]+)`", cells[1])) or None
        default = cells[2].strip("`")
        result[name] = {"default": default, "values": values}
    return result


SOURCES = {"vf_espcn.c": avoptions, "filter/espcn.texi": texi_options, "README.md": readme_options}


@pytest.fixture(scope="module")
def stated():
    return {where: read() for where, read in SOURCES.items()}


def test_the_same_options_everywhere(stated):
    names = {where: sorted(o) for where, o in stated.items()}
    assert names["filter/espcn.texi"] == names["vf_espcn.c"]
    assert names["README.md"] == names["vf_espcn.c"]


@pytest.mark.parametrize("where", ["filter/espcn.texi", "README.md"])
def test_the_same_defaults(stated, where):
    for name, option in stated["vf_espcn.c"].items():
        other = stated[where].get(name)
        assert other is not None, f"{where} does not name option {name}"
        assert other["default"] == option["default"], (
            f"{name}: default {option['default']!r} in vf_espcn.c, {other['default']!r} in {where}")


@pytest.mark.parametrize("where", ["filter/espcn.texi", "README.md"])
def test_the_same_named_values(stated, where):
    for name, option in stated["vf_espcn.c"].items():
        if option["values"] is None:
            continue
        other = stated[where].get(name)
        assert other is not None, f"{where} does not name option {name}"
        assert other["values"] == option["values"], (
            f"{name}: values {sorted(option['values'])} in vf_espcn.c, "
            f"{sorted(other['values'] or [])} in {where}")
