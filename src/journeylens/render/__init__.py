"""journeylens.render layer (see ARCHITECTURE.md)."""
