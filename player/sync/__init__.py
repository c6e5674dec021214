"""Continue watching across devices: the durable progress outbox, the reporter a playback
session drives, and the replayer that syncs the outbox with the control plane (docs/sync.md)."""

from player.sync.outbox import DROPPED, PENDING, SYNCED, Outbox, ProgressEvent
from player.sync.reporter import ProgressReporter, ReporterConfig, mark_watched
from player.sync.sync import ProgressSync, SyncConfig

__all__ = ["DROPPED", "PENDING", "SYNCED", "Outbox", "ProgressEvent", "ProgressReporter",
           "ProgressSync", "ReporterConfig", "SyncConfig", "mark_watched"]
