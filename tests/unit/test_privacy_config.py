"""The privacy and retention sections, and the pseudonyms pinned to RFC 4231's HMAC vectors."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from segmentation.config import parse_config, pseudonym_key
from segmentation.errors import ConfigError
from segmentation.privacy.pseudonyms import audit_keys, customer_keys

pytestmark = pytest.mark.unit


def test_the_issue_example_parses_and_resolves_the_erasure_list(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "home": "./home",
            "privacy": {
                "pseudonymize": True,
                "key_env": "SEGMENTATION_PSEUDONYM_KEY",
                "min_group_size": 10,
                "erasure_list": "erasures.txt",
            },
            "retention": {
                "staging_days": 7,
                "state_days": 3,
                "features_days": 400,
                "models_days": 400,
                "output_days": None,
                "reports_days": 90,
            },
        },
        base_dir=tmp_path,
    )
    assert cfg.privacy.pseudonymize is True
    assert cfg.privacy.erasure_list == tmp_path / "erasures.txt"
    assert cfg.retention.output_days is None
    assert cfg.retention.state_days == 3


def test_defaults_publish_raw_ids_and_keep_outputs_for_ever(tmp_path: Path) -> None:
    cfg = parse_config({}, base_dir=tmp_path)
    assert cfg.privacy.pseudonymize is False
    assert cfg.privacy.min_group_size == 10
    assert cfg.privacy.erasure_list is None
    assert (cfg.retention.staging_days, cfg.retention.reports_days) == (7, 90)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"privacy": {"min_group_size": 0}}, "privacy.min_group_size must be 1 or more"),
        ({"privacy": {"key_env": "s3cr3t key!"}}, "must name an environment variable"),
        ({"privacy": {"erasure_list": "home/forget.txt"}}, "is inside home"),
        ({"retention": {"state_days": 0}}, "retention.state_days must be a number of days"),
        ({"retention": {"keep_days": 3}}, "keep_days"),
        ({"privacy": {"pseudonymise": True}}, "pseudonymize"),
        (
            {
                "privacy": {"pseudonymize": True},
                "customers": {"path": "c.csv", "columns": {"customer_id": "cust_no"}},
                "audiences": {"export_columns": ["cust_no"]},
            },
            "names 'cust_no', the customers' raw id",
        ),
    ],
)
def test_mistakes_are_named(tmp_path: Path, raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"home": "./home", **raw}, base_dir=tmp_path)


def test_a_missing_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_config({"privacy": {"key_env": "NO_SUCH_KEY_HERE"}}, base_dir=tmp_path)
    monkeypatch.delenv("NO_SUCH_KEY_HERE", raising=False)
    with pytest.raises(ConfigError, match="NO_SUCH_KEY_HERE is not set; export it"):
        pseudonym_key(cfg.privacy)
    monkeypatch.setenv("NO_SUCH_KEY_HERE", "k")
    assert pseudonym_key(cfg.privacy) == b"k"


@pytest.mark.parametrize(
    ("key", "data", "expected"),
    [  # RFC 4231, test cases 2 and 6 (a key longer than SHA-256's block is hashed first)
        (
            b"Jefe",
            "what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            b"\xaa" * 131,
            "Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ],
)
def test_customer_keys_are_hmac_sha256(key: bytes, data: str, expected: str) -> None:
    assert list(customer_keys(np.array([data], dtype=object), key)) == [expected]


def test_keys_follow_their_ids_in_order_and_change_with_the_key() -> None:
    ids = pa.chunked_array([["C1", "C2"], ["Ω-3", "C1"]])
    keys = customer_keys(ids, b"one")
    by_hand = [hmac.new(b"one", i.encode(), hashlib.sha256).hexdigest() for i in ids.to_pylist()]
    assert list(keys) == by_hand
    assert keys[0] == keys[3] != keys[1]
    assert set(customer_keys(ids, b"two")).isdisjoint(keys)
    assert len(customer_keys(np.array([], dtype=object), b"one")) == 0


def test_the_audit_never_records_a_published_pseudonym() -> None:
    audit = audit_keys(["C1"], b"one")
    assert audit[0] != customer_keys(np.array(["C1"], dtype=object), b"one")[0]
    assert audit == [hmac.new(b"segmentation-erasure-audit:one", b"C1", "sha256").hexdigest()]
