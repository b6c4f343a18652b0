"""Dock panels of the main window: ops (built from Params metadata), metadata, quality, job bar."""
