"""the web view: indexes for its pages, and each published postmortem's data

Revision ID: 0009_web_indexes
Revises: 0008_due_work
Create Date: 2027-01-10 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_web_indexes'
down_revision: str | None = '0008_due_work'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # /incidents lists newest first (started_at, id), a page at a time from a key: one
    # workspace's (signed in), or every workspace's (WEB_AUTH=none).
    op.create_index('ix_incident_started', 'incidents', ['team_id', 'started_at', 'id'])
    op.create_index('ix_incident_started_all', 'incidents', ['started_at', 'id'])
    # An incident's page (and its postmortem) reads its tasks and improvements: without
    # these each read scans the whole table (PostgreSQL does not index foreign keys).
    op.create_index('ix_task_incident', 'tasks', ['incident_id', 'number'])
    op.create_index('ix_improvement_incident', 'improvements', ['incident_id', 'created_at'])
    # What each published version was rendered from (bot.postmortem.compile.snapshot), so
    # the web view renders version 3 through the HTML template exactly as it was published.
    # Plain ADD COLUMN (see 0007): a batch copy on SQLite would cascade-delete.
    op.add_column('postmortem_versions', sa.Column('snapshot', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('postmortem_versions', 'snapshot')
    op.drop_index('ix_improvement_incident', table_name='improvements')
    op.drop_index('ix_task_incident', table_name='tasks')
    op.drop_index('ix_incident_started_all', table_name='incidents')
    op.drop_index('ix_incident_started', table_name='incidents')
