"""The PulseWatch console (Textual): app, bridge to the engine, screens, widgets and pure rendering."""
