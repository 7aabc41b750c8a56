"""Alembic environment of the store: run by :func:`journeylens.store.db.upgrade`.

The engine comes in through ``config.attributes["engine"]``; SQLite uses batch mode
(``render_as_batch``) because it cannot ALTER most things in place.
"""

from __future__ import annotations

from alembic import context

from journeylens.store.models import Base


def run_migrations() -> None:
    """Run the migrations on the engine handed over by ``journeylens.store.db.upgrade``."""
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


# Alembic's ``context`` only has a config while Alembic runs this file; other imports (the
# test runner collecting doctests) must not run anything.
if hasattr(context, "config"):
    run_migrations()
