"""Unit tests for the label rules and the label cache (no HTTP)."""

from __future__ import annotations

import pytest

from connector.errors import UnknownLabel
from connector.github.labels import LabelCache
from connector.policy.rules import existing_labels

AVAILABLE = ("bug", "Enhancement", "good first issue", "needs-review")


def test_existing_labels_are_returned_in_the_repositorys_spelling():
    assert existing_labels(["BUG", "enhancement"], AVAILABLE, "o/r") == ["bug", "Enhancement"]


def test_names_differing_only_in_case_are_sent_once():
    assert existing_labels(["Bug", "bug", "BUG"], AVAILABLE, "o/r") == ["bug"]


def test_unknown_labels_are_all_named_with_close_matches():
    with pytest.raises(UnknownLabel) as caught:
        existing_labels(["bgu", "good-first-issue", "zzz"], AVAILABLE, "o/r")

    error = caught.value
    assert error.extra["unknown"] == ["bgu", "good-first-issue", "zzz"]
    assert error.extra["suggestions"] == [
        {"label": "bgu", "did_you_mean": ["bug"]},
        {"label": "good-first-issue", "did_you_mean": ["good first issue"]},
        {"label": "zzz", "did_you_mean": []},
    ]
    assert error.detail.startswith("label 'bgu' does not exist in o/r; did you mean 'bug'?; ")
    assert "label 'zzz' does not exist in o/r. Existing labels:" in error.detail
    assert "Existing labels: bug, Enhancement, good first issue, needs-review." in error.detail


def test_label_cache_reloads_after_its_time_to_live():
    now = [0.0]
    cache = LabelCache(ttl_seconds=60, clock=lambda: now[0])
    loads = []

    def load():
        loads.append(1)
        return ["bug"]

    assert cache.get("O/R", load) == ("bug",)
    now[0] = 59
    assert cache.get("o/r", load) == ("bug",)
    now[0] = 61
    cache.get("o/r", load)

    assert len(loads) == 2


def test_the_label_cache_stays_within_its_bound_dropping_what_goes_stale_first():
    now = [0.0]
    cache = LabelCache(ttl_seconds=60, clock=lambda: now[0], size=2)
    cache.get("o/a", lambda: ["a"])
    now[0] = 10
    cache.get("o/b", lambda: ["b"])
    cache.get("o/c", lambda: ["c"])  # over the bound: o/a, the soonest to go stale, goes
    loads = []

    cache.get("o/b", lambda: loads.append("b") or ["b"])
    cache.get("o/a", lambda: loads.append("a") or ["a"])

    assert loads == ["a"]
