"""Tests for aurorasoc.core.runtime: the mode matrix of spec §6."""

from __future__ import annotations

import pytest

from aurorasoc.core import runtime
from aurorasoc.core.errors import Conflict
from aurorasoc.core.vocabulary import RuntimeMode


@pytest.fixture(autouse=True)
def _reset_mode():
    runtime.reset_mode()
    yield
    runtime.reset_mode()


class TestDescribe:
    @pytest.mark.parametrize("mode", list(RuntimeMode))
    @pytest.mark.parametrize("db_up", [True, False])
    def test_flags_follow_the_formulas(self, mode, db_up):
        state = runtime.describe(mode, db_up)
        assert state.is_mutations_allowed is (mode is RuntimeMode.REAL)
        assert state.is_external_actions_allowed is (mode is RuntimeMode.REAL)
        assert state.is_read_only is (mode is not RuntimeMode.REAL)
        assert state.showcase_reads_allowed is (mode is RuntimeMode.DUMMY)
        assert state.uses_showcase_data is (mode is RuntimeMode.DUMMY and not db_up)
        assert state.is_database_available is db_up

    @pytest.mark.parametrize(
        ("mode", "db_up", "source"),
        [
            (RuntimeMode.REAL, True, "database"),
            (RuntimeMode.DRY_RUN, True, "database"),
            (RuntimeMode.DUMMY, True, "database"),
            (RuntimeMode.REAL, False, "unavailable"),
            (RuntimeMode.DRY_RUN, False, "unavailable"),
            (RuntimeMode.DUMMY, False, "showcase"),
        ],
    )
    def test_read_data_source(self, mode, db_up, source):
        assert runtime.describe(mode, db_up).read_data_source == source

    def test_exact_field_set(self):
        assert set(runtime.describe(RuntimeMode.REAL, True).model_dump()) == {
            "mode",
            "description",
            "is_read_only",
            "is_mutations_allowed",
            "is_external_actions_allowed",
            "is_database_available",
            "showcase_reads_allowed",
            "uses_showcase_data",
            "read_data_source",
        }

    def test_descriptions(self):
        assert runtime.describe(RuntimeMode.DRY_RUN, True).description == (
            "Dry run mode is active. Live reads; operator actions are previews."
        )


class TestWriteClasses:
    @pytest.mark.parametrize(
        ("write_class", "allowed_in"),
        [
            ("system", {"dummy", "dry_run", "real"}),
            ("pipeline", {"dry_run", "real"}),
            ("operator", {"real"}),
            ("external", {"real"}),
        ],
    )
    def test_matrix(self, write_class, allowed_in):
        for mode in RuntimeMode:
            assert runtime.write_allowed(write_class, mode) is (mode.value in allowed_in)

    def test_blocked_write_raises_409_with_mode(self):
        runtime.set_mode("dry_run")
        with pytest.raises(Conflict) as exc:
            runtime.assert_write_allowed("operator")
        assert exc.value.status_code == 409
        assert exc.value.detail()["code"] == "mode_blocks_mutation"
        assert exc.value.detail()["mode"] == "dry_run"

    def test_external_blocked_outside_real(self):
        runtime.set_mode(RuntimeMode.DUMMY)
        with pytest.raises(Conflict):
            runtime.assert_external_allowed()


class TestCurrentMode:
    def test_defaults_to_setting(self, monkeypatch):
        from aurorasoc.core.config import reset_settings

        monkeypatch.setenv("AURORA_MODE", "DRY_RUN")
        reset_settings()
        assert runtime.current_mode() is RuntimeMode.DRY_RUN

    def test_set_mode_overrides_setting(self):
        runtime.set_mode("dummy")
        assert runtime.current_mode() is RuntimeMode.DUMMY

    def test_unknown_mode_rejected(self):
        with pytest.raises(ValueError):
            runtime.set_mode("chaos")
