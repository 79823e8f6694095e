"""A pair without a verified book for longer than --unsynced-alert: a Slack post (with the recovery)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.collector.rig import Rig
from tests.support.wait import wait_until
from tests.sinks.servers import SlackServer

TOKEN = "xoxb-collector-test-token-0123456789"


@pytest.mark.integration
@pytest.mark.slow
def test_a_stalled_feed_alerts_once_then_reports_the_recovery(tmp_path: Path) -> None:
    # Arrange
    slack = SlackServer()
    rig = Rig(f"sqlite:///{tmp_path / 'books.sqlite'}", tmp_path, pairs=("XBTUSD",))
    try:
        rig.start("--slack-channel", "C-BOOKS", "--slack-base-url", slack.base_url, "--unsynced-alert", "1",
                  "--stall-timeout", "3", env={"SLACK_BOT_TOKEN": TOKEN})
        wait_until(lambda: rig.snapshots(), "the first snapshot", 15)
        # Act
        rig.admin("/admin/faults", {"ws_stall": {"count": 1, "stall_s": 5}})
        gap = wait_until(lambda: [g for g in rig.gaps() if g[3] == "stalled"], "the stall's gap", 15)[0]
        wait_until(lambda: any("synced again" in r.text() for r in slack.requests), "the recovery post", 5)
        code, _, stderr = rig.stop()
    finally:
        rig.close()
        slack.close()
    # Assert
    # a stall is seen after --stall-timeout 3 s: the post comes while the pair is unsynced (two posts) or
    # right after its resync (one post naming the gap)
    texts = [request.text() for request in slack.requests]
    assert gap[2] - gap[1] > 3_000_000
    if len(texts) == 2:
        assert "XBTUSD has no verified book" in texts[0] and "stalled" in texts[0], texts
        assert "XBTUSD is synced again" in texts[1]
    else:
        assert len(texts) == 1 and "XBTUSD had no verified book" in texts[0] and "(stalled); synced again" in texts[0]
    assert all(r.json().get("channel") == "C-BOOKS" for r in slack.requests)
    # sent by the bots' Slack sink from the collector's event bus: its footer names the process
    footers = [json.dumps(r.json().get("blocks", []), ensure_ascii=False) for r in slack.requests]
    assert all("test-collector · every pair · collector · collect" in footer for footer in footers), footers
    assert code == 0 and TOKEN not in stderr
