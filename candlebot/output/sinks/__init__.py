"""Event sinks that leave the process, each behind a bounded queue so that trading never waits on them.

    queued         QueuedSink: bounded queue + worker thread; drops counted and reported
    metrics        the metric names, types and tags (the one list the dashboard is checked against)
    statsd         StatsdSink: events -> DogStatsD over UDP (datadog.DogStatsd)
    slack          SlackSink: alerts, rate-limited and collapsed, bounded retries, Retry-After honoured
    slack_messages events -> Slack messages (blocks + plain text fallback), summaries
    slack_post     WebApiPoster (chat.postMessage) / WebhookPoster (slack_sdk); one post, never raises
    ratelimit      TokenBucket
    secret         Secret (never printed) and Redactor
    tags           SinkTags: bot, pair, strategy, mode
    settings       environment names, defaults, StatsdAddress
    config         flags + environment -> SinkConfig (validated; ConfigError)
    wiring         start_sinks: a QueuedSink per configured sink on the bus; SinkCloser

Wiring from flags lives in ``candlebot.cli.sinks``. Nothing is imported here:
a backtest without sinks loads only ``tags`` and ``settings``
(datadog and slack_sdk, 0.1 s each, load only when their sink is on).
"""
