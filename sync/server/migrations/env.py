"""Alembic environment for the server's own schema: always given a live connection."""

from alembic import context

from sync.server.tables import metadata

connection = context.config.attributes["connection"]

context.configure(connection=connection, target_metadata=metadata, version_table="server_schema_version")
with context.begin_transaction():
    context.run_migrations()
