"""tasks: back off a reminder that Slack refused for a reason not understood

Revision ID: 0004_task_send_backoff
Revises: 0003_timeline_entry_numbers
Create Date: 2026-12-02 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models


revision: str = '0004_task_send_backoff'
down_revision: str | None = '0003_timeline_entry_numbers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('send_failures', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('retry_at', storage.models.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('retry_at')
        batch.drop_column('send_failures')
