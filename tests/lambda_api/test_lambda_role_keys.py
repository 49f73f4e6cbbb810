"""Execution-role credentials for functions: minted once, reused across restarts, renewed for new
environments before they expire (on a fake clock)."""

from __future__ import annotations

import time

from lambda_support import ROLE

from lambdamaker.platform import Platform
from lambdamaker.services.lambda_.role_keys import KEY_LIFETIME, RENEW_BEFORE, RoleCredentials
from lambdamaker.testing import FakeClock


def test_credentials_are_an_assumed_role_session_of_the_function(platform: Platform) -> None:
    keys = RoleCredentials(platform.store, platform.credentials, "000000000000")
    (key, secret, token), renew_at = keys.get(ROLE, "fn")
    record = platform.credentials.lookup(key)
    assert record is not None and record.active
    assert record.principal_arn == "arn:aws:sts::000000000000:assumed-role/lambda-role/fn"
    assert (record.secret_access_key, record.session_token) == (secret, token)
    assert key.startswith("ASIA") and token
    assert renew_at <= time.time() + KEY_LIFETIME - RENEW_BEFORE + 1


def test_one_key_is_reused_until_renewal_is_due(platform: Platform) -> None:
    clock = FakeClock()
    keys = RoleCredentials(platform.store, platform.credentials, "000000000000", clock=clock)
    first, _ = keys.get(ROLE, "fn")
    clock.now += KEY_LIFETIME - RENEW_BEFORE - 60
    assert keys.get(ROLE, "fn")[0] == first
    # A restart (a new instance on the same store) reuses it too.
    again = RoleCredentials(platform.store, platform.credentials, "000000000000", clock=clock)
    assert again.get(ROLE, "fn")[0] == first
    clock.now += 120
    renewed, _ = keys.get(ROLE, "fn")
    assert renewed[0] != first[0]
    old = platform.credentials.lookup(first[0])
    assert old is not None and old.active  # environments holding it keep working


def test_each_function_and_role_gets_its_own_key(platform: Platform) -> None:
    keys = RoleCredentials(platform.store, platform.credentials, "000000000000")
    a = keys.get(ROLE, "a")[0][0]
    b = keys.get(ROLE, "b")[0][0]
    c = keys.get("arn:aws:iam::000000000000:role/path/other", "a")[0][0]
    assert len({a, b, c}) == 3
    record = platform.credentials.lookup(c)
    assert record is not None
    assert record.principal_arn == "arn:aws:sts::000000000000:assumed-role/other/a"
