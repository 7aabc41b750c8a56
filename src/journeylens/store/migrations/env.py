"""Alembic environment of the store: run by :func:`journeylens.store.db.upgrade`.

The engine comes in through ``config.attributes["engine"]``; SQLite uses batch mode
(``render_as_batch``) because it cannot ALTER most things in place.
"""

from __future__ import annotations

from alembic import context

from journeylens.store.models import Base

config = context.config
engine = config.attributes["engine"]

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
