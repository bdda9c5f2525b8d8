"""Regenerate the initial migration from the models (pre-release only).

Until Baton's first release the schema lives in one initial revision, rebuilt from the models
with Alembic autogenerate: ``python -m migrations.regen``. After a release, add revisions instead.
"""

import tempfile
from pathlib import Path

from alembic import command

from models.db import alembic_config

VERSIONS = Path(__file__).resolve().parent / "versions"


def main() -> None:
    for old in VERSIONS.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = alembic_config(f"sqlite:///{tmp}/empty.db")
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    for new in VERSIONS.glob("0001_*.py"):
        print(f"wrote {new}")


if __name__ == "__main__":
    main()
