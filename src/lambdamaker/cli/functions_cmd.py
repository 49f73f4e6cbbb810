"""``lambdamaker functions deploy|list`` and ``lambdamaker invoke``: thin wrappers of the public
Lambda API (see ``deploy`` for what a deploy does)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lambdamaker.cli.connection import DataDirOption, EndpointOption, aws_errors, connect, fail
from lambdamaker.cli.deploy import (
    DEFAULT_RUNTIME,
    DeployRequest,
    deploy_function,
    handler_module_missing,
    zip_directory,
)

functions_app = typer.Typer(
    name="functions", help="Deploy and list functions.", no_args_is_help=True
)


def _split_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _parse_env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--env")
        env[key] = value
    return env


@functions_app.command("deploy")
def deploy(
    directory: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, dir_okay=True, help="The code to deploy."),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="The function's name.")],
    handler: Annotated[str, typer.Option(help="module.function, e.g. app.handler.")],
    runtime: Annotated[
        str | None, typer.Option(help=f"Runtime (default on create: {DEFAULT_RUNTIME}).")
    ] = None,
    memory: Annotated[int | None, typer.Option(help="Memory in MB (128-10240).")] = None,
    timeout: Annotated[int | None, typer.Option(help="Timeout in seconds (1-900).")] = None,
    preload: Annotated[
        str | None,
        typer.Option(help="Modules the zygote imports before forking: numpy,pandas ('' clears)."),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(help="Execution role ARN (default: lambdamaker-default-function-role)."),
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE (repeatable).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="A description.")] = None,
    endpoint_url: EndpointOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Zip DIRECTORY and create the function, or update its code and configuration."""
    if handler_module_missing(directory, handler):
        typer.secho(
            f"Warning: the handler module of {handler!r} is not in {directory} "
            "(fine if a layer provides it).",
            err=True,
            fg=typer.colors.YELLOW,
        )
    package = zip_directory(directory)
    request = DeployRequest(
        name=name,
        handler=handler,
        package=package,
        runtime=runtime,
        memory=memory,
        timeout=timeout,
        role=role,
        description=description,
        environment=_parse_env(env or []),
        preload=_split_list(preload),
    )
    conn = connect(endpoint_url, data_dir)
    with aws_errors(conn):
        action, config = deploy_function(conn.client, request)
    console = Console()
    table = Table(title=f"{name} {action}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    variables = (config.get("Environment") or {}).get("Variables") or {}
    for label, value in (
        ("Function", config.get("FunctionArn")),
        ("Runtime", config.get("Runtime")),
        ("Handler", config.get("Handler")),
        ("Memory", f"{config.get('MemorySize')} MB"),
        ("Timeout", f"{config.get('Timeout')} s"),
        ("Code", f"{config.get('CodeSize')} bytes, sha256 {config.get('CodeSha256')}"),
        ("Preload", variables.get("LAMBDAMAKER_PRELOAD", "-")),
        ("State", f"{config.get('State', '?')} / {config.get('LastUpdateStatus', '?')}"),
    ):
        table.add_row(label, str(value))
    console.print(table)


@functions_app.command("list")
def list_functions(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    endpoint_url: EndpointOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List the functions."""
    conn = connect(endpoint_url, data_dir)
    functions: list[dict[str, Any]] = []
    with aws_errors(conn):
        for page in conn.client("lambda").get_paginator("list_functions").paginate():
            functions.extend(page.get("Functions", []))
    functions.sort(key=lambda f: str(f.get("FunctionName")))
    if as_json:
        typer.echo(json.dumps(functions, indent=2, default=str))
        return
    table = Table(title=f"{len(functions)} function(s)", title_justify="left")
    for column in ("Name", "Runtime", "Handler", "Memory", "Timeout", "Code size", "Modified"):
        table.add_column(column, no_wrap=column == "Name")
    for f in functions:
        table.add_row(
            str(f.get("FunctionName")),
            str(f.get("Runtime", "-")),
            str(f.get("Handler", "-")),
            f"{f.get('MemorySize')} MB",
            f"{f.get('Timeout')} s",
            str(f.get("CodeSize", "-")),
            str(f.get("LastModified", "-")),
        )
    Console().print(table)


def _payload_bytes(payload: str | None) -> bytes:
    if payload is None:
        return b"{}"
    if payload == "-":
        return sys.stdin.buffer.read()
    if payload.startswith("@"):
        try:
            return Path(payload[1:]).read_bytes()
        except OSError as exc:
            raise typer.BadParameter(str(exc), param_hint="--payload") from None
    return payload.encode()


def invoke(
    name: Annotated[str, typer.Argument(help="Function name or ARN.")],
    payload: Annotated[
        str | None,
        typer.Option(help="The event: JSON text, @file.json, or - for stdin (default {})."),
    ] = None,
    qualifier: Annotated[str | None, typer.Option(help="A version or alias.")] = None,
    log_tail: Annotated[
        bool, typer.Option("--log-tail", help="Print the last 4 KB of the log to stderr.")
    ] = False,
    endpoint_url: EndpointOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Invoke a function and print its response; exit 1 if the function failed."""
    conn = connect(endpoint_url, data_dir)
    params: dict[str, Any] = {
        "FunctionName": name,
        "Payload": _payload_bytes(payload),
        "LogType": "Tail" if log_tail else "None",
    }
    if qualifier:
        params["Qualifier"] = qualifier
    with aws_errors(conn):
        response = conn.client("lambda").invoke(**params)
        body: bytes = response["Payload"].read()
    if log_tail and response.get("LogResult"):
        sys.stderr.write(base64.b64decode(response["LogResult"]).decode("utf-8", "replace"))
        sys.stderr.flush()
    sys.stdout.write(body.decode("utf-8", "replace") + "\n")
    sys.stdout.flush()
    if response.get("FunctionError"):
        raise fail(f"Function error ({response['FunctionError']})")
