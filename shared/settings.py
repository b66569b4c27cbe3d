"""Service settings from the environment (pydantic-settings).

Secrets and addresses have no defaults: a service started without DATABASE_URL or
KAFKA_BOOTSTRAP_SERVERS or a token key stops with a message naming what is missing. Only the
local stack (`eduhub up`) fills them in, with its own embedded servers and generated keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    database_url: str = Field(description="PostgreSQL URL of this service's own database")
    kafka_bootstrap_servers: str = Field(description="host:port[,host:port] of the Kafka brokers")
    http_host: str = "0.0.0.0"
    http_port: int = 8000
    eduhub_env: Literal["local", "test", "production"] = "production"
    log_level: str = "INFO"

    jwt_public_key_file: Path | None = Field(
        default=None, description="PEM public key that verifies RS256 bearer tokens"
    )
    jwt_jwks_url: str | None = Field(
        default=None, description="JWKS URL of the agency's OIDC provider (instead of a key file)"
    )
    jwt_issuer: str = "eduhub-local"
    jwt_audience: str = "eduhub"

    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_idempotent_producer: bool = False
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Members of each consumer group in one process. A group applies its batches one after
    # another, waiting on the database in between; several members split the group's
    # partitions and overlap those waits. More members than a topic has partitions idle.
    consumer_members: int = Field(default=1, ge=1, le=32)
    outbox_batch_size: int = Field(default=1000, ge=1, le=50_000)
    outbox_retention_days: int = Field(default=30, ge=1)
    # Longer than the outbox's: a replay of the whole retained log must still be recognised.
    inbox_retention_days: int = Field(default=45, ge=1)
    db_pool_size: int = Field(default=10, ge=2)

    @model_validator(mode="after")
    def _token_key_configured(self) -> ServiceSettings:
        if self.jwt_public_key_file is None and self.jwt_jwks_url is None:
            raise ValueError(
                "set JWT_PUBLIC_KEY_FILE (a PEM public key) or JWT_JWKS_URL (the OIDC provider's "
                "key set) so that bearer tokens can be verified"
            )
        if self.jwt_public_key_file is not None and not self.jwt_public_key_file.is_file():
            raise ValueError(f"JWT_PUBLIC_KEY_FILE {self.jwt_public_key_file} does not exist")
        return self
