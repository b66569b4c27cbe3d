"""Which failures are the infrastructure's (redeliver later) and which the event's (DLQ)."""

from __future__ import annotations

import asyncpg

from shared.consumer.runner import is_transient


def pg_error(cls: type[asyncpg.PostgresError], sqlstate: str) -> asyncpg.PostgresError:
    error = cls.__new__(cls)
    setattr(error, "sqlstate", sqlstate)  # noqa: B010 (a class attribute on the real ones)
    return error


def test_database_trouble_is_transient():
    assert is_transient(ConnectionResetError())
    assert is_transient(TimeoutError())
    assert is_transient(asyncpg.InterfaceError("connection closed"))
    assert is_transient(pg_error(asyncpg.AdminShutdownError, "57P01"))
    assert is_transient(pg_error(asyncpg.QueryCanceledError, "57014"))
    assert is_transient(pg_error(asyncpg.DiskFullError, "53100"))
    assert is_transient(pg_error(asyncpg.SerializationError, "40001"))
    assert is_transient(pg_error(asyncpg.LockNotAvailableError, "55P03"))
    assert is_transient(pg_error(asyncpg.ReadOnlySQLTransactionError, "25006"))


def test_a_schema_changed_by_a_newer_replica_is_transient():
    # What an old replica meets while a new one has migrated (a rolling upgrade).
    assert is_transient(pg_error(asyncpg.UndefinedTableError, "42P01"))
    assert is_transient(pg_error(asyncpg.UndefinedColumnError, "42703"))
    assert is_transient(pg_error(asyncpg.WrongObjectTypeError, "42809"))
    assert is_transient(pg_error(asyncpg.UndefinedFunctionError, "42883"))
    assert is_transient(pg_error(asyncpg.InvalidCachedStatementError, "0A000"))


def test_the_events_own_faults_are_not():
    assert not is_transient(ValueError("grade 13"))
    assert not is_transient(KeyError("school_id"))
    assert not is_transient(pg_error(asyncpg.UniqueViolationError, "23505"))
    assert not is_transient(pg_error(asyncpg.CheckViolationError, "23514"))
    assert not is_transient(pg_error(asyncpg.NumericValueOutOfRangeError, "22003"))
    assert not is_transient(pg_error(asyncpg.InvalidTextRepresentationError, "22P02"))
    assert not is_transient(pg_error(asyncpg.FeatureNotSupportedError, "0A000"))
