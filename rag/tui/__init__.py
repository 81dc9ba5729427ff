"""The chat TUI (`rag chat`). Importing this package loads Textual only, never the models."""
