"""SqlPolicy: which servers and files SQL sources may open, decided before anything connects."""

from __future__ import annotations

import os

import pytest

from shapeshift import SqlPolicy, SqlTarget

OWN = SqlTarget("127.0.0.1", "5432", "shiftbench")


def test_it_allows_every_server_by_default():
    assert SqlPolicy().server_refusal(SqlTarget("db.example.org", "5432", "sead")) is None


def test_it_refuses_every_server_when_nothing_is_allowed_and_names_the_setting():
    policy = SqlPolicy(allowed=(), allowed_setting="SHIFTBENCH_SQL_ALLOWED")

    refusal = policy.server_refusal(SqlTarget("db.example.org", "5432", "sead"))

    assert refusal == "this server allows no PostgreSQL source (SHIFTBENCH_SQL_ALLOWED is empty)"


@pytest.mark.parametrize(
    "host, port, dbname, allowed",
    [
        ("db.example.org", "5432", "sead", True),
        ("DB.Example.org", "5432", "sead_staging", True),
        ("db.example.org", "5433", "sead", False),
        ("db.example.org", "5432", "other", False),
        ("evil.org", "5432", "sead", False),
        ("reports.example.org", "6432", "anything", True),
    ],
)
def test_it_allows_only_servers_that_match_a_pattern(host, port, dbname, allowed):
    policy = SqlPolicy(
        allowed=("db.example.org:5432/sead*", "reports.example.org:6432"), allowed_setting="ALLOWED"
    )

    refusal = policy.server_refusal(SqlTarget(host, port, dbname))

    assert (refusal is None) is allowed
    if not allowed:
        assert refusal.endswith(f"/{dbname} is not in ALLOWED")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "LocalHost.",
        "",
        "127.0.0.2",
        "127.1",
        "2130706433",
        "0x7f.1",
        "0.0.0.0",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
        "/var/run/postgresql",
    ],
)
def test_it_refuses_the_applications_own_database_by_any_local_name(host):
    policy = SqlPolicy(allowed=("*",), refused=(OWN,))

    refusal = policy.server_refusal(SqlTarget(host, "5432", "shiftbench"))

    assert refusal == "it is the application's own database, which no SQL source may read"


def test_it_allows_other_databases_and_ports_of_the_same_server():
    policy = SqlPolicy(allowed=("*",), refused=(OWN,))

    assert policy.server_refusal(SqlTarget("localhost", "5432", "sead")) is None
    assert policy.server_refusal(SqlTarget("localhost", "5433", "shiftbench")) is None


def test_it_refuses_a_list_of_hosts_or_ports():
    policy = SqlPolicy(allowed=("db.example.org:*",))

    assert "one server" in policy.server_refusal(SqlTarget("db.example.org,127.0.0.1", "5432", "x"))
    assert "one server" in policy.server_refusal(SqlTarget("db.example.org", "5432,5433", "x"))


def test_it_refuses_the_applications_own_sqlite_file_under_any_name(tmp_path):
    own = tmp_path / "shiftbench.sqlite3"
    own.write_bytes(b"")
    os.link(own, tmp_path / "hardlink.db")
    (tmp_path / "symlink.db").symlink_to(own)
    (tmp_path / "other.db").write_bytes(b"")
    policy = SqlPolicy(refused_files=(str(own),))

    for name in ("shiftbench.sqlite3", "hardlink.db", "symlink.db"):
        assert "application's own database" in policy.file_refusal(tmp_path / name)
    assert policy.file_refusal(tmp_path / "other.db") is None
