"""keep incidents moving: incidents.last_update_at and next_update_at, announcements, due_work

Revision ID: 0008_due_work
Revises: 0007_private_incidents
Create Date: 2026-11-26 19:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0008_due_work'
down_revision: str | None = '0007_private_incidents'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0007): a batch copy of incidents on SQLite would cascade-delete.
    op.add_column('incidents', sa.Column('last_update_at', storage.models.UTCDateTime(timezone=True), nullable=True))
    op.add_column('incidents', sa.Column('next_update_at',
                                         storage.models.UTCDateTime(timezone=True),
                                         nullable=True))
    op.create_table(
        'announcements',
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('ts', sa.String(length=32), nullable=False),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('incident_id', 'channel_id'),
    )
    op.create_table(
        'due_work',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('due_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('hold_until', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('lease_owner', sa.String(length=64), nullable=True),
        sa.Column('lease_until', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
        sa.Column('retry_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('runs', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_run_at', storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('message_channel_id', sa.String(length=32), nullable=True),
        sa.Column('message_ts', sa.String(length=32), nullable=True),
        sa.Column('created_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'key', name='uq_due_work_key'),
    )
    op.create_index('ix_due_work_due', 'due_work', ['kind', 'due_at'])


def downgrade() -> None:
    op.drop_index('ix_due_work_due', table_name='due_work')
    op.drop_table('due_work')
    op.drop_table('announcements')
    op.drop_column('incidents', 'next_update_at')
    op.drop_column('incidents', 'last_update_at')
