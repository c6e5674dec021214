"""The stream format a client asks for (``POST /v1/playback`` ``format``), its fallback to HLS,
what the QoE report says about it, and an MPD's ClearKey licence URL (``laurl``)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from player.dash import parse_mpd
from player.dash_model import build_multivariant
from player.errors import PlayerError
from player.qoe_report import QoeReport
from tests.unit.player.test_api_client import Env, error


def _answer(fmt: str | None) -> dict[str, Any]:
    raw: dict[str, Any] = {"session_id": "s1", "title_id": "t1", "license_url": "k",
                           "manifest_url": "http://cp.test/v1/playback/s1/master.m3u8"}
    if fmt is not None:
        raw["format"] = fmt
    return raw


def _playback_server(dash: bool) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("format") == "dash":
            if not dash:
                return error(400, "format_unavailable", "Old Film has no DASH manifest")
            return httpx.Response(201, json=_answer("dash"))
        return httpx.Response(201, json=_answer("hls"))
    return handler


def test_dash_is_asked_for_and_hls_is_the_default() -> None:
    env = Env(_playback_server(dash=True))
    dash = env.run(lambda c: c.start_playback("t1", "p1", "dash"))
    hls = Env(_playback_server(dash=True)).run(lambda c: c.start_playback("t1", "p1"))
    assert json.loads(env.requests[0].content)["format"] == "dash"
    assert (dash.format, dash.requested_format) == ("dash", "dash")
    assert (hls.format, hls.requested_format) == ("hls", "hls")


def test_a_title_without_dash_falls_back_to_hls_logged_once_per_title(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="net")
    env = Env(_playback_server(dash=False))

    async def twice(c: Any) -> list[Any]:
        return [await c.start_playback("t1", "p1", "dash"),
                await c.start_playback("t1", "p1", "dash")]

    first, second = env.run(twice)
    assert [json.loads(r.content).get("format") for r in env.requests] == \
        ["dash", None, "dash", None]
    assert (first.format, first.requested_format) == ("hls", "dash")
    assert second.format == "hls"
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(lines) == 1 and "t1" in lines[0] and "playing HLS" in lines[0]


def test_other_refusals_of_dash_are_not_a_fallback() -> None:
    env = Env(lambda r: error(400, "bad_request", "field 'format' must be 'hls' or 'dash'"))
    with pytest.raises(PlayerError, match="must be"):
        env.run(lambda c: c.start_playback("t1", "p1", "dash"))
    assert len(env.requests) == 1


def test_an_unknown_format_is_refused_before_any_request() -> None:
    env = Env(_playback_server(dash=True))
    with pytest.raises(ValueError, match="not one of hls, dash"):
        env.run(lambda c: c.start_playback("t1", "p1", "smooth"))
    assert env.requests == []


def test_an_answer_without_format_is_hls() -> None:
    env = Env(lambda r: httpx.Response(201, json=_answer(None)))
    assert env.run(lambda c: c.start_playback("t1", "p1")).format == "hls"


def test_the_report_says_the_format_and_the_fallback() -> None:
    start = {"type": "session_start", "format": "hls", "format_fallback": True}
    report = QoeReport.from_events([start])
    assert report.format == "hls" and report.format_fallback
    assert "HLS (DASH unavailable for this title)" in report.text()
    assert report.to_json()["format"] == "hls"
    dash = QoeReport.from_events([{"type": "session_start", "format": "dash"}])
    assert dash.format == "dash" and not dash.format_fallback
    assert "Format:             DASH\n" in dash.text()
    assert QoeReport.from_events([]).format is None


MPD = """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" {ns}
     type="static" mediaPresentationDuration="PT8S"
     profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period>
    <AdaptationSet contentType="video" mimeType="video/mp4" codecs="avc1.64001e">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cbcs"
                         cenc:default_KID="00112233-4455-6677-8899-aabbccddeeff"/>
      {clearkey}
      <SegmentTemplate timescale="1" duration="4" startNumber="1"
                       initialization="v_init.mp4" media="v_$Number$.m4s"/>
      <Representation id="v" bandwidth="500000" width="320" height="180"/>
    </AdaptationSet>
  </Period>
</MPD>"""


def _mpd(ns: str = "", clearkey: str = "") -> str:
    return MPD.format(ns=ns, clearkey=clearkey)


@pytest.mark.parametrize(("ns", "element", "url"), [
    ('xmlns:dashif="https://dashif.org/CPS"', "<dashif:laurl>/licence</dashif:laurl>",
     "http://media.test/licence"),
    ('xmlns:clearkey="http://dashif.org/guidelines/clearKey"',
     '<clearkey:Laurl Lic_type="EME-1.0">https://keys.test/ck?x=1&amp;y=2</clearkey:Laurl>',
     "https://keys.test/ck?x=1&y=2"),
    ('xmlns:dashif="https://dashif.org/CPS"', "<dashif:laurl> lic </dashif:laurl>",
     "http://media.test/v/lic"),
], ids=["dashif-absolute-path", "clearkey-absolute", "relative"])
def test_the_mpd_clearkey_licence_url_is_read_and_resolved(ns: str, element: str,
                                                           url: str) -> None:
    clearkey = ('<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"'
                f' value="ClearKey1.0">{element}</ContentProtection>')
    mv = build_multivariant(parse_mpd(_mpd(ns, clearkey), "http://media.test/v/manifest.mpd"))
    assert mv.licence_url == url
    assert any(c.value == "cbcs" for c in mv.protection)


def test_no_laurl_or_a_foreign_scheme_is_no_licence_url() -> None:
    assert build_multivariant(parse_mpd(_mpd(), "http://m.test/a.mpd")).licence_url is None
    bad = ('<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e">'
           "<dashif:laurl>javascript:alert(1)</dashif:laurl></ContentProtection>")
    mv = build_multivariant(parse_mpd(_mpd('xmlns:dashif="https://dashif.org/CPS"', bad),
                                      "http://m.test/a.mpd"))
    assert mv.licence_url is None
