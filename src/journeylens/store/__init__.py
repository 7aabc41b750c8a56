"""journeylens.store layer (see ARCHITECTURE.md): users, workspaces, versioned maps and
personas, comments, share links and API tokens, in SQLite (default) or PostgreSQL.

Import the service API from :mod:`journeylens.store.service`, engines and migrations from
:mod:`journeylens.store.db`, errors from :mod:`journeylens.store.errors`. Needs the ``web``
extra (SQLAlchemy, Alembic, argon2-cffi); ``postgres`` adds the PostgreSQL driver.
"""
