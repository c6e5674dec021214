"""The bundled edge fleet: N edge caches on loopback ports with run-time fault injection.

See ``docs/edges.md`` for the routes, the fault kinds and the request log format.
"""

from controlplane.edge.faults import Fault, FaultError, parse_fault
from controlplane.edge.fleet import EdgeFleet
from controlplane.edge.server import Edge

__all__ = ["Edge", "EdgeFleet", "Fault", "FaultError", "parse_fault"]
