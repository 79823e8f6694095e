"""The fleet generator from a checkout, for those who run candlebot without installing it:

    python deploy/supervisor/generate.py fleet.toml -o deploy/supervisor/fleet.conf [--mkdirs] [--standalone]

is ``candlebot fleet fleet.toml ...`` (candlebot/cli/fleet.py); see fleet.example.toml for the file.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout's candlebot, as `python -m candlebot` finds it

from candlebot.cli.fleet import main  # noqa: E402 - after the path is set

if __name__ == "__main__":
    sys.exit(main())
