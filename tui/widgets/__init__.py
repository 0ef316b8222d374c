"""The console's widgets, one per module: the status grid, the summary bar, the history tables."""
