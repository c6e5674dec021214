"""``python -m controlplane.pipeline generate|ingest FILE``."""

from controlplane.pipeline.cli import main

raise SystemExit(main())
