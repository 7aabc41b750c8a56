"""The ``journeylens`` command line (Typer + Rich). Commands call library functions only."""
