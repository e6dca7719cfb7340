"""Where the official reference data lives: ``../shared/reference`` beside the clone."""
import os
from pathlib import Path

REFERENCE_DIR = Path(os.environ.get("REGISTRY_REFERENCE_DIR",
                                    Path(__file__).resolve().parents[2] / "shared" / "reference"))
