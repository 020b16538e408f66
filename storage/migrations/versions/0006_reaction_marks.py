"""timeline: remember the latest pin or unpin event per person and message (tombstones)

Revision ID: 0006_reaction_marks
Revises: 0005_purge_indexes
Create Date: 2026-12-03 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models


revision: str = '0006_reaction_marks'
down_revision: str | None = '0005_purge_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'reaction_marks',
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('message_ts', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('event_ts', sa.String(length=32), nullable=False),
        sa.Column('removed', sa.Boolean(), nullable=False),
        sa.Column('updated_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel_id', 'message_ts', 'user_id'),
    )


def downgrade() -> None:
    op.drop_table('reaction_marks')
