"""Copy the screen tests' screenshots into docs/images/screens/ as 256-colour PNGs (about a third of the size,
the text as sharp), replacing the ones there; `make screenshots` runs it after the tests.

    .venv/bin/python docs/copy_screenshots.py [FROM] [TO]
"""
from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def copy_screens(source: Path, target: Path) -> int:
    """Replace every PNG of ``target`` by the quantized PNGs of ``source``; the number copied."""
    shots = sorted(source.glob("*.png"))
    if not shots:
        raise SystemExit(f"{source}: no screenshot to copy (run the screen tests first)")
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.png"):
        old.unlink()
    for shot in shots:
        with Image.open(shot) as image:
            image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(target / shot.name, optimize=True)
    return len(shots)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    source = Path(arguments[0]) if arguments else ROOT / "test-artifacts" / "screens"
    target = Path(arguments[1]) if len(arguments) > 1 else ROOT / "docs" / "images" / "screens"
    print(f"{copy_screens(source, target)} screenshots copied to {target}")
