"""``python -m candlebot.exchanges.kraken_sim``: the same as ``candlebot-kraken-sim``."""

from candlebot.exchanges.kraken_sim.cli import main

raise SystemExit(main())
