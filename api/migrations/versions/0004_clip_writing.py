"""clips keep what the ranker wrote: the on-screen hook and a caption per platform

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clips") as batch:
        batch.add_column(sa.Column("hook", sa.String(length=100), nullable=False, server_default=""))
        batch.add_column(sa.Column("post_captions", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("clips") as batch:
        batch.drop_column("post_captions")
        batch.drop_column("hook")
