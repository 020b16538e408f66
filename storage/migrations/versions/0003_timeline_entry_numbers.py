"""Stable timeline entry numbers, and who last corrected an entry

Each entry gets ``seq``, its number on its incident's timeline, handed out from
``incidents.last_entry_seq``; entries already stored are numbered in the order
``/incident timeline`` listed them (time, Slack ts, insertion), so the numbers people saw
before the upgrade stay the numbers they type after it.

Revision ID: 0003_timeline_entry_numbers
Revises: 0002_text_as_typed
Create Date: 2026-03-12 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = '0003_timeline_entry_numbers'
down_revision: str | None = '0002_text_as_typed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('last_entry_seq', sa.Integer(), nullable=False,
                                   server_default='0'))
    with op.batch_alter_table('timeline_entries') as batch:
        batch.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('edited_by', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('edited_at', storage.models.UTCDateTime(timezone=True),
                                   nullable=True))
    op.execute(
        "UPDATE timeline_entries SET seq = numbered.n FROM ("
        " SELECT id, ROW_NUMBER() OVER (PARTITION BY incident_id"
        " ORDER BY occurred_at, sort_ts, id) AS n FROM timeline_entries) AS numbered"
        " WHERE numbered.id = timeline_entries.id"
    )
    op.execute(
        "UPDATE incidents SET last_entry_seq = COALESCE((SELECT MAX(e.seq)"
        " FROM timeline_entries e WHERE e.incident_id = incidents.id), 0)"
    )
    with op.batch_alter_table('timeline_entries') as batch:
        batch.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint('uq_entry_seq', ['incident_id', 'seq'])


def downgrade() -> None:
    with op.batch_alter_table('timeline_entries') as batch:
        batch.drop_constraint('uq_entry_seq', type_='unique')
        batch.drop_column('edited_at')
        batch.drop_column('edited_by')
        batch.drop_column('seq')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('last_entry_seq')
