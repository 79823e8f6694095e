"""The order-book collector: Kraken WebSocket v2 ``book`` for many pairs, every message verified, stored.

    instruments  Instrument: a pair's v2 symbol and the precisions its checksum is formatted at
    book         OrderBook: apply, truncate to depth, CRC32 checksum, crossed check
    feed         SymbolFeed: one symbol's state (syncing, synced, resyncing), gaps, rows to store
    connection   one WebSocket (<= 20 symbols): subscribe, heartbeats, resync, reconnect with back-off
    writer       the bounded queue and the batching writer task (drops force a resync)
    storage/     schema (versioned), SQLite (WAL) and PostgreSQL (psycopg 3, COPY) stores
    read         books at any time, tardis-style L2 rows, top-of-book features (the research API)
    ops          StatsD metrics and the Slack "unsynced" alert
    cli          ``candlebot-collector`` (run, book, export)

Data flows one way: socket -> SymbolFeed (verify) -> queue -> writer -> store. The receive path never
waits on the database: a full queue drops the message, counts it and resyncs the symbol.
"""
