"""CPS / IoT: devices, zones, conduits, telemetry, attestation, firmware bundles, badges (spec §4, §18).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 19:49:58.868549
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "access_badges",
        sa.Column("badge_id", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("zone_ids", JSON_TYPE, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("badge_id"),
    )
    op.create_table(
        "attestation_nonces",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nonce"),
    )
    op.create_table(
        "attestation_records",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=True),
        sa.Column("firmware_hash", sa.String(length=128), nullable=True),
        sa.Column("boot_count", sa.BigInteger(), nullable=True),
        sa.Column("firmware_version", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attestation_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attestation_records_device_created", ["device_id", "created_at"], unique=False
        )

    op.create_table(
        "cps_conduits",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("from_zone_id", sa.String(length=64), nullable=False),
        sa.Column("to_zone_id", sa.String(length=64), nullable=False),
        sa.Column("protocols", JSON_TYPE, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cps_devices",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("device_type", sa.String(length=64), nullable=False),
        sa.Column("board_family", sa.String(length=32), nullable=True),
        sa.Column("firmware_stack", sa.String(length=32), nullable=True),
        sa.Column("firmware_version", sa.String(length=64), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("zone_id", sa.String(length=64), nullable=True),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("public_key_pem", sa.Text(), nullable=True),
        sa.Column("attestation_status", sa.String(length=32), nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("last_attested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("boot_count", sa.BigInteger(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("health", sa.String(length=16), nullable=True),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("metadata", JSON_TYPE, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id"),
    )
    op.create_table(
        "cps_telemetry",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cps_telemetry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cps_telemetry_device_metric_ts", ["device_id", "metric", "timestamp"], unique=False
        )

    op.create_table(
        "cps_zones",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("security_level", sa.String(length=8), nullable=False),
        sa.Column("fail_mode", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "firmware_bundles",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("target_device_type", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signature_hex", sa.Text(), nullable=True),
        sa.Column("signature_valid", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storage_path", sa.String(length=1024), nullable=True),
        sa.Column("uploaded_by", sa.String(length=128), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("target_device_type", "version", name="uq_firmware_bundles_type_version"),
    )


def downgrade() -> None:
    op.drop_table("firmware_bundles")
    op.drop_table("cps_zones")
    with op.batch_alter_table("cps_telemetry", schema=None) as batch_op:
        batch_op.drop_index("ix_cps_telemetry_device_metric_ts")

    op.drop_table("cps_telemetry")
    op.drop_table("cps_devices")
    op.drop_table("cps_conduits")
    with op.batch_alter_table("attestation_records", schema=None) as batch_op:
        batch_op.drop_index("ix_attestation_records_device_created")

    op.drop_table("attestation_records")
    op.drop_table("attestation_nonces")
    op.drop_table("access_badges")
