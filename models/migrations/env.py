"""Alembic environment: always given a live connection by models.migrate."""

from alembic import context

from models.entities import Base
from models.migrate import include_object

connection = context.config.attributes["connection"]


context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_object=include_object
)
with context.begin_transaction():
    context.run_migrations()
