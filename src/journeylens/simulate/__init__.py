"""journeylens.simulate layer (see ARCHITECTURE.md)."""
