"""``python -m schemas.jsonschema [--check]``: regenerate (or check) the schema files."""

from __future__ import annotations

import sys

from schemas.jsonschema.generate import differences, write


def main(argv: list[str]) -> int:
    if "--check" in argv:
        diff = differences()
        for name in diff:
            print(f"out of date: schemas/jsonschema/{name}")
        return 1 if diff else 0
    for name in write():
        print(f"wrote schemas/jsonschema/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
