"""candlebot: small unattended crypto trading bots on Kraken."""

from setuptools import find_packages, setup

# Heavy or server-bound parts stay optional so that a bot process stays lean.
POSTGRES = ["psycopg[binary]>=3.1"]
REPORT = ["matplotlib>=3.8"]  # --report-png only; the HTML report needs nothing beyond numpy (uPlot is vendored)
OPTIMIZE = ["optuna>=3.6"]
EXTRAS = {
    "postgres": POSTGRES,
    "report": REPORT,
    "optimize": OPTIMIZE,
    # playwright drives the system's Chromium (no browser download); empyrical-reloaded checks the metrics;
    # pandas for that check and to prove that bots and backtests never load it (TA-Lib would, when installed);
    # ccxt, pinned: the independent Kraken client the simulator's conformance test runs (tests/kraken_sim);
    # pytest-xdist: the suite runs on 4 workers (pytest.ini), as most tests wait on real processes and servers
    "test": ["pytest>=8", "pytest-timeout>=2.2", "pytest-xdist>=3.5", "playwright>=1.40", "empyrical-reloaded>=0.5.10",
             "pandas>=2", "ccxt==4.5.90", *POSTGRES, *REPORT, *OPTIMIZE],
}

setup(
    name="candlebot",
    version="0.1.0",
    description="Candlestick trading bots for Kraken: backtest, paper, validate and live from one engine",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    # strategies/, exchanges/ and collector/ install as candlebot.strategies, candlebot.exchanges and
    # candlebot.collector (candlebot/<name> links to ../<name>): a user's own package called ``strategies``
    # can never shadow ours, and a checkout imports exactly what the wheel installs.
    packages=find_packages(include=["candlebot", "candlebot.*"]),
    package_data={"candlebot.exchanges": ["data/*.json"], "candlebot.output": ["assets/*", "vendor/*"]},
    install_requires=[
        "ta-lib>=0.8,<0.9",
        "numpy>=1.26",
        "python-dateutil>=2.8",
        "krakenex>=2.2,<3",
        "requests>=2.28",
        "datadog>=0.49",
        "slack-sdk>=3.20",
        "supervisor>=4.2",
        "websockets>=12",
        "orjson>=3.9",
        "tqdm>=4.66",
        # CSV candle files: parsed on threads, 3x faster than numpy's loadtxt on a million rows (README, Benchmarks);
        # imported only when a file is parsed (never by a bot); without it the numpy reader is used
        "pyarrow>=14",
        # gzip candle files inflated by ISA-L beside pyarrow's parse (~2.5x zlib's inflate, which set the pace of a
        # first run); without it pyarrow inflates with zlib
        "isal>=1.6",
    ],
    extras_require=EXTRAS,
    entry_points={
        "console_scripts": [
            "candlebot=candlebot.cli:main",
            "candlebot-kraken-sim=candlebot.cli.kraken_sim:main",
            "candlebot-ledger=candlebot.cli.ledger:main",
            "candlebot-demo=candlebot.cli.demo:main",
            "candlebot-collector=candlebot.cli.collector:main",
        ],
    },
)
