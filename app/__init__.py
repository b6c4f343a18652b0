"""PhotoRestore: desktop photo restoration (RAW and sRGB) with models trained by this project."""

__version__ = "0.1.0"
