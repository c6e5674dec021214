import pytest

from controlplane.config import Policy, policy_with_overrides
from controlplane.health import EdgeHealth


def test_policy_overrides_parse_numbers_and_name_bad_input() -> None:
    policy = policy_with_overrides(["access_token_ttl_s=5", "health-interval-s=0.25"])
    assert policy.access_token_ttl_s == 5 and policy.health_interval_s == 0.25
    assert policy.download_limit == Policy().download_limit
    with pytest.raises(ValueError, match="unknown policy"):
        policy_with_overrides(["nope=1"])
    with pytest.raises(ValueError, match="needs a number"):
        policy_with_overrides(["download_limit=many"])
    with pytest.raises(ValueError, match="unknown policy"):
        policy_with_overrides(["download_limit"])


def test_health_ranks_down_edges_last_then_caching_then_rtt() -> None:
    health = EdgeHealth()
    for name in ("edge-1", "edge-2", "edge-3"):
        health.track(name, f"http://{name}")
    health.edges["edge-1"].record(True, 5.0, None, failures_to_down=2)
    health.edges["edge-2"].record(True, 1.0, None, failures_to_down=2)
    health.edges["edge-3"].record(True, 3.0, None, failures_to_down=2)
    names = ["edge-1", "edge-2", "edge-3"]
    assert health.ranked(names) == ["edge-2", "edge-3", "edge-1"]
    assert health.ranked(names, prefer=["edge-1", "edge-3"]) == ["edge-3", "edge-1", "edge-2"]
    # One failure is not enough to demote; two in a row are; one success restores.
    health.edges["edge-2"].record(False, 0.0, "refused", failures_to_down=2)
    assert health.ranked(names)[0] == "edge-2"
    health.edges["edge-2"].record(False, 0.0, "refused", failures_to_down=2)
    assert health.ranked(names)[-1] == "edge-2"
    assert health.edges["edge-2"].last_error == "refused"
    health.edges["edge-2"].record(True, 1.0, None, failures_to_down=2)
    assert health.ranked(names)[0] == "edge-2"
