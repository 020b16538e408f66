"""private incidents and incident roles: incidents.is_private, incidents.roles

Revision ID: 0007_private_incidents
Revises: 0006_reaction_marks
Create Date: 2026-11-26 15:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_private_incidents'
down_revision: str | None = '0006_reaction_marks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing incidents were all opened in public channels: false is what they are. Plain
    # ADD COLUMN on every backend: a batch "move and copy" of incidents on SQLite would drop
    # the old table, and its ON DELETE CASCADE children (timeline, tasks) with it.
    op.add_column('incidents', sa.Column('is_private', sa.Boolean(), nullable=False,
                                         server_default=sa.false()))
    op.add_column('incidents', sa.Column('roles', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('incidents', 'roles')
    op.drop_column('incidents', 'is_private')
