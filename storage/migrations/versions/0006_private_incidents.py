"""private incidents and incident roles: incidents.is_private, incidents.roles

Revision ID: 0006_private_incidents
Revises: 0005_purge_indexes
Create Date: 2026-11-26 15:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_private_incidents'
down_revision: str | None = '0005_purge_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing incidents were all opened in public channels: false is what they are.
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('is_private', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('roles', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('roles')
        batch.drop_column('is_private')
