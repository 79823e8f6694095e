"""``python -m exchanges.kraken_sim``: the same as ``candlebot-kraken-sim``."""

from exchanges.kraken_sim.cli import main

raise SystemExit(main())
