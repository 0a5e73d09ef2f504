"""The admin commands as an operator runs them: real processes on the test database."""

from __future__ import annotations

import json

import pytest

from tests.support.processes import run_cli
from wanotify.common.config import Settings


def test_tenant_policy_round_trip(settings: Settings) -> None:
    env = {"DATABASE_URL": settings.database_url}
    tenant = run_cli(["tenants", "create", "--name", "Policy Co"], env).strip()
    assert json.loads(run_cli(["tenants", "policy", "--tenant", tenant], env)) == {
        "opt_out_keywords": ["STOP", "UNSUBSCRIBE"]
    }
    wanted = {
        "language_fallback": {"pt_BR": ["pt", "en"]},
        "max_attempts": {"high": 8},
        "opt_out_keywords": ["PARAR", "STOP"],
    }
    shown = json.loads(run_cli(["tenants", "policy", "--tenant", tenant, "--set", json.dumps(wanted)], env))
    assert shown == wanted
    assert json.loads(run_cli(["tenants", "policy", "--tenant", tenant], env)) == wanted


def test_a_bad_policy_is_refused(settings: Settings) -> None:
    env = {"DATABASE_URL": settings.database_url}
    tenant = run_cli(["tenants", "create", "--name", "Strict Co"], env).strip()
    with pytest.raises(AssertionError, match="invalid policy"):
        run_cli(["tenants", "policy", "--tenant", tenant, "--set", '{"max_attempts": {"high": "lots"}}'], env)
