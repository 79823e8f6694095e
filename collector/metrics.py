"""Every metric the collector sends to DogStatsD (the dashboard test checks the dashboard against these).

Tags follow the bots' convention: ``bot`` (the collector's name), ``pair``, ``strategy:collector``
and ``mode:collect`` on every metric, so one Datadog template (``$bot``, ``$pair``) filters both.
"""

from __future__ import annotations

from candlebot.output.sinks.metrics import Metric

MESSAGES = Metric("candlebot.collector.messages", "count", "messages", "collector",
                  "book messages received (snapshots and updates)")
ROWS_WRITTEN = Metric("candlebot.collector.rows.written", "count", "rows", "collector",
                      "book rows committed to the database (sent after the commit)")
MISMATCHES = Metric("candlebot.collector.checksum.mismatches", "count", "messages", "collector",
                    "messages whose checksum did not match, or that left bid >= ask")
RESYNCS = Metric("candlebot.collector.resyncs", "count", "resyncs", "collector",
                 "symbol resyncs, by reason (checksum, crossed, duplicate, out_of_order, dropped, disconnected, "
                 "stalled, rate_limited, malformed)", ("reason",))
GAP_SECONDS = Metric("candlebot.collector.gap.seconds", "count", "seconds", "collector",
                     "length of each gap closed (no verified book; one increment per gap, a row of the gaps table)")
LAG = Metric("candlebot.collector.lag", "distribution", "seconds", "collector",
             "exchange time to receive time of updates (sampled)")
STORE_LAG = Metric("candlebot.collector.store.lag", "distribution", "seconds", "collector",
                   "receive time to commit of book messages (sampled)")
QUEUE_DEPTH = Metric("candlebot.collector.queue.depth", "gauge", "records", "collector",
                     "records waiting for the writer (process-wide: pair:all)")
DROPPED = Metric("candlebot.collector.dropped", "count", "records", "collector",
                 "records the full writer queue refused (each forces a resync)")
UNSYNCED = Metric("candlebot.collector.unsynced", "gauge", "seconds", "collector",
                  "how long the symbol has been without a verified book (0 when synced)")

METRICS: tuple[Metric, ...] = (MESSAGES, ROWS_WRITTEN, MISMATCHES, RESYNCS, GAP_SECONDS, LAG, STORE_LAG, QUEUE_DEPTH,
                               DROPPED, UNSYNCED)
