"""The order-book collector: Kraken WebSocket v2 ``book`` for many pairs, every message verified, stored.

    instruments  Instrument: a pair's v2 symbol and the precisions its checksum is formatted at
    book         OrderBook: apply, truncate to depth, CRC32 checksum, crossed check
    feed         SymbolFeed: one symbol verified message by message, synced or waiting for a snapshot; gaps
    connection   one WebSocket (<= 20 symbols): subscribe, heartbeats, resync, reconnect with back-off
    records      BookRecord / GapRecord: what the receive path hands to the writer
    writer       the bounded queue and the batching writer task (drops force a resync)
    storage/     schema (versioned), SQLite (WAL) and PostgreSQL (psycopg 3, COPY) stores
    read         books at any time, tardis-style L2 rows, top-of-book features (the research API)
    metrics      the metric names (the dashboard test checks them); ops: sending them, the Slack alert
    tuning       RecorderTuning: depth, URLs, timeouts, queue bound and their defaults (the settings' and flags' too)
    app          CollectorConfig and ``collect``: everything wired, run until SIGTERM

Data flows one way: socket -> SymbolFeed (verify) -> queue -> writer -> store. The receive path never
waits on the database: a full queue drops the message, counts it and resyncs the symbol. The command
(``candlebot-collector``: run, book, export) is ``candlebot.cli.collector``; ``candlebot.assembly.collector``
builds the recorder.
"""
