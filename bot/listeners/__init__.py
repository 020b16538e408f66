"""Bolt listeners: parse, call the core, render. One module per feature."""
