"""Bearer tokens and organisation scope (pure: keys generated in a temp folder)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from shared.auth import (
    AuthenticationError,
    AuthorisationError,
    Principal,
    TokenVerifier,
    ensure_in_scope,
    generate_key_pair,
    in_scope,
    issue_token,
    require_role,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    private, public = generate_key_pair(tmp_path_factory.mktemp("keys"))
    return private.read_bytes(), public


def verifier(public, **kw):
    return TokenVerifier.from_file(
        public, issuer=kw.get("issuer", "eduhub-local"), audience=kw.get("audience", "eduhub")
    )


def test_a_valid_token_names_the_caller(keys):
    private, public = keys
    token = issue_token(private, subject="u1", role="school", org_id="S-1")
    assert verifier(public).verify(token) == Principal("u1", "school", "S-1")


def test_key_generation_keeps_an_existing_pair(keys, tmp_path):
    first = generate_key_pair(tmp_path)
    content = first[0].read_bytes()
    assert generate_key_pair(tmp_path)[0].read_bytes() == content
    assert oct(first[0].stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: issue_token(
                p, subject="u", role="school", org_id="S", ttl=timedelta(seconds=-5)
            ),
            "expired",
        ),
        (
            lambda p: issue_token(p, subject="u", role="school", org_id="S", issuer="elsewhere"),
            "not valid",
        ),
        (
            lambda p: issue_token(p, subject="u", role="school", org_id="S", audience="other"),
            "not valid",
        ),
        (
            lambda p: jwt.encode(
                {
                    "sub": "u",
                    "role": "king",
                    "org": "S",
                    "iss": "eduhub-local",
                    "aud": "eduhub",
                    "exp": 4102444800,
                },
                p,
                algorithm="RS256",
            ),
            "role 'king'",
        ),
        (
            lambda p: jwt.encode(
                {
                    "sub": "u",
                    "role": "school",
                    "iss": "eduhub-local",
                    "aud": "eduhub",
                    "exp": 4102444800,
                },
                p,
                algorithm="RS256",
            ),
            "no 'org' claim",
        ),
        (
            lambda p: jwt.encode(
                {
                    "sub": "u",
                    "role": "school",
                    "org": "S",
                    "iss": "eduhub-local",
                    "aud": "eduhub",
                    "exp": 4102444800,
                },
                "secret",
                algorithm="HS256",
            ),
            "not valid",
        ),
        (lambda p: "not-a-jwt", "not valid"),
    ],
)
def test_untrustworthy_tokens_are_rejected_with_a_reason(keys, make, message):
    private, public = keys
    with pytest.raises(AuthenticationError, match=message):
        verifier(public).verify(make(private))


def test_a_token_signed_by_another_key_is_rejected(keys, tmp_path):
    other_private, _ = generate_key_pair(tmp_path)
    token = issue_token(other_private.read_bytes(), subject="u", role="department", org_id="HP")
    with pytest.raises(AuthenticationError, match="not valid"):
        verifier(keys[1]).verify(token)


def test_scope_follows_the_organisation_tree():
    chain = ["C-1", "HP"]  # school S-1 sits in commune C-1 of province HP
    assert in_scope(Principal("d", "department", "HP"), "S-1", chain)
    assert in_scope(Principal("c", "commune", "C-1"), "S-1", chain)
    assert in_scope(Principal("s", "school", "S-1"), "S-1", chain)
    assert not in_scope(Principal("s", "school", "S-2"), "S-1", chain)
    assert not in_scope(Principal("c", "commune", "C-2"), "S-1", chain)
    assert in_scope(Principal("svc", "service", "records"), "S-1", chain)
    with pytest.raises(AuthorisationError, match="S-1 is outside the scope of school S-2"):
        ensure_in_scope(Principal("s", "school", "S-2"), "S-1", chain)


def test_roles_are_checked():
    require_role(Principal("d", "department", "HP"), ["department"])
    with pytest.raises(AuthorisationError, match="role 'auditor' may not do this"):
        require_role(Principal("a", "auditor", "HP"), ["department", "school"])
