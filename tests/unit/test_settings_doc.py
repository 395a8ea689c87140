"""README's configuration tables are generated from the settings classes and must not drift."""

from __future__ import annotations

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy import settings_doc
from deploy.settings_doc import BEGIN, END, SettingsDocError, render, replace_tables


def test_readme_configuration_tables_match_the_settings_classes():
    assert settings_doc.main(["--check"]) == 0, (
        "README.md's configuration tables are out of date: "
        "run python -m deploy.settings_doc --write"
    )


def test_every_setting_of_every_service_is_in_the_tables():
    tables = render()
    for cls in settings_doc.settings_classes().values():
        prefix = cls.model_config["env_prefix"]
        for name in cls.model_fields:
            assert f"`{prefix}{name}`".upper() in tables.upper()


def test_check_fails_on_a_drifted_readme_and_write_repairs_it(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{BEGIN}\n| stale | table |\n{END}\n\nafter\n", encoding="utf-8")
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 1
    assert "--write" in capsys.readouterr().err
    assert settings_doc.main(["--write", "--readme", str(readme)]) == 0
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "MGN_GATEWAY_BATCH_SIZE" in text
    assert text.endswith("after\n")


def test_a_readme_without_markers_is_a_clear_error(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no tables here\n", encoding="utf-8")
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 2
    assert "settings:begin" in capsys.readouterr().err


def test_a_setting_without_description_is_refused(monkeypatch):
    class Undocumented(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="MGN_X_")
        documented: int = Field(default=1, description="has one")
        bare: int = 2

    monkeypatch.setattr(settings_doc, "settings_classes", lambda: {"x": Undocumented})
    with pytest.raises(SettingsDocError, match=r"Undocumented\.bare"):
        render()


def test_replace_tables_keeps_the_text_around_the_markers():
    out = replace_tables(f"before\n{BEGIN}\nold\n{END}\nafter", "NEW")
    assert out == f"before\n{BEGIN}\n\nNEW\n\n{END}\nafter"
