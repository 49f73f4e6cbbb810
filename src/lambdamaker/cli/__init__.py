"""The ``lambdamaker`` command line. Commands are thin: they parse flags and call the platform."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from lambdamaker._version import __version__
from lambdamaker.cli.functions_cmd import functions_app, invoke
from lambdamaker.cli.logs_cmd import logs
from lambdamaker.config import DEFAULT_FUNCTION_NICE, DEFAULT_HOST, DEFAULT_PORT, PlatformConfig
from lambdamaker.errors import ConfigError


class KeepAliveChoice(enum.StrEnum):
    fixed = "fixed"
    hybrid = "hybrid"


app = typer.Typer(
    name="lambdamaker",
    help="Serverless, event-driven ML workflows on your own machine, over AWS's APIs.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to bind.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to bind (0 picks a free one).")] = DEFAULT_PORT,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where the platform keeps everything.", envvar="LAMBDAMAKER_DATA_DIR"),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Metadata store URL: sqlite:///PATH (default) or postgresql://..."),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Skip SigV4 checks (throwaway development only).")
    ] = False,
    keepalive: Annotated[
        KeepAliveChoice,
        typer.Option(help="Keep-alive of idle function environments: fixed or hybrid."),
    ] = KeepAliveChoice.fixed,
    workers: Annotated[
        int,
        typer.Option(
            help="Processes serving the port: 1 is the primary alone; N adds N-1 data-plane "
            "workers for the store-backed services (DynamoDB) on other cores.",
            envvar="LAMBDAMAKER_WORKERS",
        ),
    ] = 1,
    function_nice: Annotated[
        int | None,
        typer.Option(
            help="Steps below the platform (nice, 0-19) that function code runs at "
            f"(default {DEFAULT_FUNCTION_NICE}; 0: the platform's priority).",
            envvar="LAMBDAMAKER_FUNCTION_NICE",
        ),
    ] = None,
    account_concurrency: Annotated[
        int | None,
        typer.Option(
            help="Concurrent executions of all functions together (default 1000).",
            envvar="LAMBDAMAKER_ACCOUNT_CONCURRENCY",
        ),
    ] = None,
) -> None:
    """Start the platform and serve the AWS APIs until Ctrl-C or SIGTERM."""
    from lambdamaker.server import run_server

    extra: dict[str, int] = {}
    if account_concurrency:
        extra["account_concurrency"] = account_concurrency
    if function_nice is not None:
        extra["function_nice"] = function_nice
    try:
        config = PlatformConfig(
            data_dir=data_dir or Path(".lambdamaker"),
            host=host,
            port=port,
            store_url=store,
            auth=not no_auth,
            keepalive=keepalive.value,
            workers=workers,
            **extra,  # type: ignore[arg-type]
        )
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    run_server(config)


@app.command(hidden=True)
def worker(spec: str) -> None:
    """A data-plane worker; only a server started with --workers runs this."""
    from lambdamaker.workers import run_worker

    run_worker(spec)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


# Client commands: thin wrappers of the public AWS API against a running server.
app.add_typer(functions_app, name="functions")
app.command()(invoke)
app.command()(logs)


def main() -> None:
    app()
