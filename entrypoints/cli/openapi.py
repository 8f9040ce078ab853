"""`taskapi openapi`: the OpenAPI document, for clients' build steps (type generators)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from entrypoints.cli.runtime import load_settings


@click.command("openapi")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document to this file [default: standard output].",
)
def openapi(output: Path | None) -> None:
    """Print the OpenAPI 3.1 document that GET /openapi.json serves.

    The document follows the settings (with AUTH_MODE=jwt it declares bearer auth on the task
    routes); no database is opened.
    """
    from entrypoints.container import Container  # noqa: PLC0415 (the app imports the world)
    from entrypoints.http.app import create_app  # noqa: PLC0415
    from entrypoints.http.openapi import openapi_document  # noqa: PLC0415

    settings = dataclasses.replace(load_settings(), task_store="memory", rate_limit=None)
    text = json.dumps(openapi_document(create_app(Container(settings=settings))), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
