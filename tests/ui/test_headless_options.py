"""What a headless run's options give the engine, per way of playing."""

from __future__ import annotations

from ui.headless_options import HeadlessOptions, is_url, session_config

KEYS = ((b"\x01" * 16, b"\x02" * 16),)


def test_a_title_resumes_caps_and_starts_from_the_last_estimate() -> None:
    options = HeadlessOptions(title="t", start_over=True, max_rung=2, keys=KEYS)
    config = session_config(options, "title", initial_estimate_bps=3e6)
    assert (config.start_over, config.max_rung, config.clear_keys) == (True, 2, KEYS)
    assert config.initial_estimate_bps == 3e6 and config.post_telemetry


def test_a_url_posts_no_telemetry_and_has_no_resume() -> None:
    options = HeadlessOptions(title="http://x/a.m3u8", start_over=True, max_rung=1, keys=KEYS)
    config = session_config(options, "url")
    assert not config.post_telemetry and not config.start_over
    assert (config.max_rung, config.clear_keys) == (1, KEYS)


def test_a_download_plays_as_stored() -> None:
    options = HeadlessOptions(title="t", start_over=True, max_rung=1, keys=KEYS)
    config = session_config(options, "offline")
    assert config.start_over and not config.post_telemetry
    assert config.max_rung is None and config.clear_keys == ()


def test_urls_are_told_from_titles() -> None:
    assert is_url("https://example.test/a.m3u8") and is_url("http://127.0.0.1/x")
    assert not is_url("pocket-meadow") and not is_url("ftp://x")
