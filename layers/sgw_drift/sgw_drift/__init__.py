"""sgw-drift: keep S3 File Gateway shares consistent with the buckets behind them."""

__version__ = "0.1.0"
