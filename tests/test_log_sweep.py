"""The end-of-session log sweep finds what it looks for, so its "0 found" means something."""

from __future__ import annotations

from tests.log_sweep import sweep


def test_a_planted_secret_and_body_are_found_in_any_file(tmp_path):
    (tmp_path / "in-process.log").write_text("INFO connector: listing pulls\nDEBUG x: token ghp_planted\n")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "audit.log").write_text('{"note": "Deployed build 4f2a to staging"}\n')

    hits = sweep(tmp_path, ["ghp_planted", "Deployed build 4f2a to staging", "absent-needle", ""])

    assert sorted(hits) == [("audit.log", "Deployed build 4f2a to staging"), ("in-process.log", "ghp_planted")]


def test_clean_logs_give_no_hits(tmp_path):
    (tmp_path / "in-process.log").write_text("INFO connector: listing pulls\n")

    assert sweep(tmp_path, ["ghp_planted"]) == []
