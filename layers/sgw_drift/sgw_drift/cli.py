"""The `sgw-drift` command."""

from __future__ import annotations

import argparse
import os
import sys


def _demo(arguments: argparse.Namespace) -> int:
    # The demo runs on moto with fake credentials: make sure nothing reaches a real account.
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_PROFILE", None)
    from .demo import run_demo

    return run_demo(as_json=arguments.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sgw-drift", description="Drift detector for S3 File Gateway shares."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole pipeline locally on moto and the gateway emulator")
    demo.add_argument("--json", action="store_true", help="print only the summary, as one JSON object")
    demo.set_defaults(run=_demo)

    from .check import add_parser as add_check_parser

    add_check_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    return arguments.run(arguments)


if __name__ == "__main__":
    sys.exit(main())
