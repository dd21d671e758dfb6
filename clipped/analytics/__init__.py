"""Analytics: engagement snapshots pulled from the platforms, and the expectations a day's snapshot must meet."""
