"""journeylens.insights layer (see ARCHITECTURE.md)."""
