"""Where candles come from: candle files and their cache, resampling, Kraken history downloads, the demo price path."""
