"""Theme files shipped with PulseWatch: one YAML file per theme, read by `tui/themes.py`.

A package (rather than a loose folder) so the files travel as package data and are found with
`importlib.resources` wherever PulseWatch is installed.
"""
