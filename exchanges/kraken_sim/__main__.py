"""``python -m candlebot.exchanges.kraken_sim``: the same as ``candlebot-kraken-sim`` (candlebot.cli.kraken_sim)."""

from candlebot.cli.kraken_sim import main

raise SystemExit(main())
