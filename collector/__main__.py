import sys

from candlebot.collector.cli import main

sys.exit(main())
