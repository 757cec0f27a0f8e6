"""moderation: blocked accounts, and the derived table of removed practices

The removals are filled from git: forgetting the derived head makes the next write (or
``commons reindex``) replay the history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('blocked_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('blocked_reason', sa.Text(), nullable=True))

    op.create_table('removals',
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('revision', sa.String(length=40), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_by_name', sa.String(length=200), nullable=False),
    sa.Column('removed_by_username', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('slug')
    )
    op.execute("DELETE FROM state WHERE key = 'head'")


def downgrade() -> None:
    op.drop_table('removals')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('blocked_reason')
        batch_op.drop_column('blocked_by')
        batch_op.drop_column('blocked_at')
