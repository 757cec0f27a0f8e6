"""forks and proposals: lineage columns on the derived tables, proposals and their threads

The new derived columns are filled from git: forgetting the derived head makes the next write
(or ``commons reindex``) replay the history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:00:51.775816
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('practice_stewards',
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['slug'], ['practices.slug'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('slug', 'username')
    )
    with op.batch_alter_table('practice_stewards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_stewards_username'), ['username'], unique=False)

    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fork_slug', sa.String(length=80), nullable=False),
    sa.Column('upstream_slug', sa.String(length=80), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fork_revision', sa.String(length=40), nullable=False),
    sa.Column('upstream_revision', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('accepted_revision', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['proposer_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_fork_slug'), ['fork_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_upstream_slug'), ['upstream_slug'], unique=False)

    op.create_table('proposal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('revision', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_events_proposal_id'), ['proposal_id'], unique=False)

    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposal_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_changes_proposal_id'), ['proposal_id'], unique=False)

    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upstream_slug', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('fork_point', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('given_back', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_practices_upstream_slug'), ['upstream_slug'], unique=False)

    op.execute("DELETE FROM state WHERE key = 'head'")


def downgrade() -> None:
    with op.batch_alter_table('practices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practices_upstream_slug'))
        batch_op.drop_column('given_back')
        batch_op.drop_column('fork_point')
        batch_op.drop_column('upstream_slug')

    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_changes_proposal_id'))
        batch_op.drop_column('proposal_id')

    with op.batch_alter_table('proposal_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_events_proposal_id'))

    op.drop_table('proposal_events')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_upstream_slug'))
        batch_op.drop_index(batch_op.f('ix_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_proposals_proposer_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_fork_slug'))

    op.drop_table('proposals')
    with op.batch_alter_table('practice_stewards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_stewards_username'))
    op.drop_table('practice_stewards')
