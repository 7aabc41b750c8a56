"""journeylens.events layer (see ARCHITECTURE.md)."""
