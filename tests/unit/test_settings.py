"""Settings come from the environment; the storage secret is never a value baked into the code."""

from services.settings import load_settings


def test_defaults_use_a_sqlite_file_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTOMER_GROUPS_DATA", str(tmp_path))
    for name in ("DATABASE_URL", "PORT", "HOST", "STORAGE_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.port == 8080
    assert settings.effective_database_url == f"sqlite://{tmp_path}/customer-groups.sqlite3"


def test_the_storage_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTOMER_GROUPS_DATA", str(tmp_path))
    monkeypatch.delenv("STORAGE_SECRET", raising=False)
    first = load_settings().effective_storage_secret
    assert len(first) >= 40
    assert load_settings().effective_storage_secret == first
    assert (tmp_path / "storage-secret").stat().st_mode & 0o077 == 0, "only the owner may read the secret"
    other = tmp_path / "other"
    monkeypatch.setenv("CUSTOMER_GROUPS_DATA", str(other))
    assert load_settings().effective_storage_secret != first


def test_the_environment_overrides_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTOMER_GROUPS_DATA", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "sqlite://:memory:")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("STORAGE_SECRET", "from-the-operator")
    settings = load_settings()
    assert (settings.effective_database_url, settings.port) == ("sqlite://:memory:", 9001)
    assert settings.effective_storage_secret == "from-the-operator"
    assert not (tmp_path / "storage-secret").exists()
