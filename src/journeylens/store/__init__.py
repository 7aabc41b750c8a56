"""journeylens.store layer (see ARCHITECTURE.md)."""
