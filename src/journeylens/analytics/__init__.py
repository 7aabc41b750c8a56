"""journeylens.analytics layer (see ARCHITECTURE.md)."""
