"""indexes for the purges: processed_events by age, channel_messages by age

Revision ID: 0005_purge_indexes
Revises: 0004_task_send_backoff
Create Date: 2026-12-03 10:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005_purge_indexes'
down_revision: str | None = '0004_task_send_backoff'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The purges (bot.background.purge_stored) take the oldest rows in small batches; without
    # these each batch would scan the whole table.
    op.create_index('ix_processed_events_received', 'processed_events', ['received_at'])
    op.create_index('ix_channel_messages_created', 'channel_messages', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_channel_messages_created', table_name='channel_messages')
    op.drop_index('ix_processed_events_received', table_name='processed_events')
