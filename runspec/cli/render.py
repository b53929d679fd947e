"""``runspec render SPEC``: print the body, the whole request (token masked), or a picture of the task graph."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runspec.cli._loading import InvalidSpec, Stdin, load_builder_or_exit
from runspec.cli._options import FORMATTER, SPEC_HELP, Settings, lenient_option, nonempty_token, workspace_options
from runspec.cli._output import EXIT_INVALID, EXIT_OK, echo, note, report_invalid, report_warnings, use_color
from runspec.cli._workspace import config_line, resolve
from runspec.spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover - the client layer is imported only when --request asks for it
    from runspec.cli._options import Commands
    from runspec.client import PreparedRequest

PLACEHOLDER_HOST = "https://your-workspace.cloud.databricks.com"
_PLACEHOLDER_TOKEN = "placeholder-token"


def _prepare(spec: RunSpec, args: argparse.Namespace, settings: Settings) -> PreparedRequest:
    """The request ``submit`` would send; with placeholders (and a note) when no workspace is configured."""
    from runspec.client import prepare
    from runspec.errors import ConfigError, HostError

    try:
        workspace = resolve(settings)
    except HostError:
        raise  # a host that is set but wrong: say so, never draw a placeholder instead
    except ConfigError as reason:
        try:
            # Credentials missing: keep the configured host, use a placeholder token (it is masked anyway).
            workspace = resolve(settings, _PLACEHOLDER_TOKEN)
            what = "the Authorization header holds a placeholder token"
        except HostError:
            raise
        except ConfigError:
            if settings.host:
                raise
            workspace = resolve(settings, _PLACEHOLDER_TOKEN, host=PLACEHOLDER_HOST)
            what = f"the URL uses the placeholder host {PLACEHOLDER_HOST} and a placeholder token"
        note(f"note: {config_line(reason)}")
        note(f"note: showing the request anyway: {what}")
    return prepare(spec, workspace=workspace, idempotency_token=args.idempotency_token)


def _body_as_written(source: str, stdin: Stdin) -> dict[str, Any] | None:
    """The JSON object a SPEC file (or standard input, as read) holds, whatever its problems; else ``None``."""
    try:
        text = stdin.text if source == "-" else Path(source).read_text(encoding="utf-8-sig")
        body = json.loads(text) if text is not None else None
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _draw_invalid(args: argparse.Namespace, stdin: Stdin, invalid: InvalidSpec) -> int:
    """A picture of a body that is not a valid run, as written (pictures draw invalid runs), then its problems."""
    from runspec.picture import render as draw

    body = _body_as_written(args.spec, stdin)
    if body is None:
        raise invalid
    options: dict[str, Any] = {"color": use_color(sys.stdout)} if args.graph == "text" else {}
    try:
        picture = draw(body, args.graph, **options)
    except (TypeError, ValueError, KeyError, AttributeError):  # too broken to draw: the problems say why
        raise invalid from None
    echo(picture.rstrip("\n"))
    report_invalid(invalid.source, invalid.error, lenient=invalid.lenient)
    return EXIT_INVALID


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    stdin = Stdin(sys.stdin)
    try:
        spec, builder = load_builder_or_exit(args.spec, strict=not args.lenient, stdin=stdin)
    except InvalidSpec as invalid:
        if args.graph is None or args.request:
            raise
        return _draw_invalid(args, stdin, invalid)
    # A builder names its clusters (Run.cluster()); a body's pictures title them from the cluster itself.
    drawn: Any = builder if builder is not None else spec
    if args.request:
        prepared = _prepare(spec, args, settings)
        if args.json:
            echo(json.dumps(prepared.redacted(), indent=2, ensure_ascii=False))
        else:
            echo(str(prepared))
        if not args.idempotency_token and not spec.idempotency_token:
            note("note: the idempotency token is new each time; submit mints its own unless given --idempotency-token")
    elif args.graph == "text":
        echo(drawn.to_text(color=use_color(sys.stdout)).rstrip("\n"))
    elif args.graph == "mermaid":
        echo(drawn.to_mermaid().rstrip("\n"))
    elif args.graph == "dot":
        echo(drawn.to_dot().rstrip("\n"))
    else:
        echo(spec.to_json(indent=2))
    report_warnings(spec)
    return EXIT_OK


def add_parser(commands: Commands) -> None:
    """Register ``runspec render``."""
    render = commands.add_parser(
        "render",
        help="print the request body, the whole request, or a picture of the task graph",
        description=(
            "Print what would be sent, without sending it: the exact JSON body (default), the whole HTTP\n"
            "request with --request (method, URL, headers with the token masked, body), or a picture of\n"
            "the task graph with --graph. Warnings go to standard error."
        ),
        epilog=(
            "examples:\n  runspec render pipeline.json > body.json\n  runspec render pipeline.json --request\n"
            "  runspec render pipelines.nightly:run --graph mermaid\n"
            "  runspec render pipeline.json --graph dot | dot -Tsvg > run.svg\n"
            "\n"
            "With --request and no workspace configured, a placeholder host and token are used (and a note says so)."
        ),
        formatter_class=FORMATTER,
    )
    render.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    shown = render.add_mutually_exclusive_group()
    shown.add_argument("--request", action="store_true", help="the whole request, as submit would send it")
    shown.add_argument(
        "--graph", choices=("mermaid", "dot", "text"), help="a picture of the tasks and their dependencies"
    )
    render.add_argument("--json", action="store_true", help="with --request: the request as one JSON object")
    render.add_argument(
        "--idempotency-token", type=nonempty_token, metavar="T", help="with --request: the token to put in the body"
    )
    lenient_option(render)
    workspace_options(render)
    render.set_defaults(handler=cmd_render)
