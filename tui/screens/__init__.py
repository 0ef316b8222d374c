"""The console's screens, one per module: the checks grid, a check's detail, the engine-error modal."""
