"""Console tests: Pilot tests assert messages and state; snapshot tests pin the look."""
