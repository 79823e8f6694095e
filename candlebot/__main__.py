import sys

from candlebot.cli import main

sys.exit(main())
