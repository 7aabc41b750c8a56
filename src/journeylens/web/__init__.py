"""journeylens.web layer (see ARCHITECTURE.md)."""
