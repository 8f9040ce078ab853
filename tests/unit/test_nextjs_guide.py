"""docs/nextjs.md shows only code that runs: each of its code blocks is a region of a file in
clients/typescript/examples/ (type-checked by tsc, run by the client's Node test), word for
word, so the guide and the code cannot drift apart."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from entrypoints.config import Settings

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "nextjs.md"
BLOCK = re.compile(
    r"(?:<!-- snippet: (?P<source>[^#\s]+)(?:#(?P<region>[\w-]+))? -->\n)?"
    r"```\w*\n(?P<code>.*?)```",
    re.DOTALL,
)


def _blocks() -> list[re.Match[str]]:
    return list(BLOCK.finditer(GUIDE.read_text()))


def region(source: Path, name: str | None) -> str:
    """The lines between `--8<-- [start:name]` and `--8<-- [end:name]`, dedented; the whole
    file without a name."""
    text = source.read_text()
    if name is None:
        return text
    found = re.search(
        rf"^[^\n]*--8<-- \[start:{name}\][^\n]*\n(.*?)^[^\n]*--8<-- \[end:{name}\]",
        text,
        re.DOTALL | re.MULTILINE,
    )
    assert found, f"{source} has no region {name}"
    return textwrap.dedent(found.group(1))


def test_the_guide_has_code_blocks() -> None:
    assert len(_blocks()) >= 8


@pytest.mark.parametrize("block", _blocks(), ids=lambda b: b["source"] or "unsourced")
def test_each_code_block_is_its_source_region_word_for_word(block: re.Match[str]) -> None:
    assert block["source"], f"a code block without a snippet comment:\n{block['code']}"
    source = ROOT / block["source"]

    assert source.is_relative_to(ROOT / "clients" / "typescript" / "examples"), source
    assert block["code"] == region(source, block["region"])


def test_a_changed_line_is_caught(tmp_path: Path) -> None:
    source = tmp_path / "example.ts"
    source.write_text("// --8<-- [start:x]\n  const a = 1;\n// --8<-- [end:x]\n")

    assert region(source, "x") == "const a = 1;\n"
    assert region(source, "x") != "const a = 2;\n"


def test_the_guides_taskapi_environment_is_what_the_service_reads() -> None:
    settings = Settings.from_env(
        environ={}, env_file=ROOT / "clients/typescript/examples/taskapi.env"
    )

    assert settings.auth_mode == "jwt"
    assert settings.jwt_jwks_url == "https://app.example.com/api/auth/jwks"
    assert settings.jwt_issuer == settings.jwt_audience == "https://app.example.com"
    assert settings.cors_origins == ("https://app.example.com",)
