"""The one exception type the content pipeline raises for things a user can fix."""

from __future__ import annotations


class PipelineError(Exception):
    """A catalog could not be generated or a video could not be ingested.

    The message is written for a person: it names what failed and, where there is one, the fix.
    """
