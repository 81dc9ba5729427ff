"""Local, offline question answering over news articles, with verified citations."""

__version__ = "0.1.0"
