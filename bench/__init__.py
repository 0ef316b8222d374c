"""One-command benchmarks that print figures (never assertions)."""
