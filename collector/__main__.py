import sys

from candlebot.cli.collector import main

sys.exit(main())
