"""import: the derived source_key of imported practices

Filled from git: forgetting the derived head makes the next write (or ``commons reindex``)
replay the history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_practices_source_key'), ['source_key'], unique=False)

    op.execute("DELETE FROM state WHERE key = 'head'")


def downgrade() -> None:
    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practices_source_key'))
        batch_op.drop_column('source_key')
