"""Helpers for the literate Spotify Million Playlist Dataset continuation book."""

__version__ = "0.1.0"
