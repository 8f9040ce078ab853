"""Where the cursors' signing key comes from when CURSOR_SECRET is not set."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from entrypoints.config import Settings
from entrypoints.cursor_secret import SECRET_FILE, cursor_secret, cursor_secret_warning

ROOT = Path(__file__).resolve().parents[2]


def test_a_set_cursor_secret_is_used_without_a_warning(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cursor_secret="shared by every instance")

    assert cursor_secret(settings) == "shared by every instance"
    assert cursor_secret_warning(settings) is None
    assert not (tmp_path / SECRET_FILE).exists()


def test_on_the_embedded_database_a_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    first = cursor_secret(settings)
    again = cursor_secret(settings)

    kept = tmp_path / "data" / SECRET_FILE
    assert first == again == kept.read_text().strip()
    assert len(first) >= 32
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert cursor_secret_warning(settings) is None
    assert [p.name for p in kept.parent.iterdir()] == [SECRET_FILE]  # no candidate left over


def test_the_kept_secret_survives_a_restart(tmp_path: Path) -> None:
    """Another process (a restarted service) reads the same secret."""
    script = (
        "import sys; from pathlib import Path; from entrypoints.config import Settings; "
        "from entrypoints.cursor_secret import cursor_secret; "
        "print(cursor_secret(Settings(data_dir=Path(sys.argv[1]))))"
    )

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    assert run() == run() == cursor_secret(Settings(data_dir=tmp_path))


def test_elsewhere_the_secret_is_random_per_process_with_a_warning(tmp_path: Path) -> None:
    external = Settings(data_dir=tmp_path, database_url="postgresql://db.example/tasks")
    memory = Settings(data_dir=tmp_path, task_store="memory")

    warning = cursor_secret_warning(external)

    assert warning is not None
    assert "CURSOR_SECRET" in warning
    assert cursor_secret_warning(memory) == warning
    assert cursor_secret(external) == cursor_secret(memory)  # one per process
    assert cursor_secret(external) != "taskapi-cursor"
    assert len(cursor_secret(external)) >= 32
    assert not (tmp_path / SECRET_FILE).exists()
