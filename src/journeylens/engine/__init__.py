"""journeylens.engine layer (see ARCHITECTURE.md)."""
