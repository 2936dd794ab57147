"""`sgw-drift check`: compare a share's bucket and prefix with what the share shows, once, from a terminal.

Each module contains one concept. `options` builds the parser and checks the options, `core` lists,
compares and requests refreshes, `output` renders the JSON document, the table and the progress, and
`errors` turns an error into a message that names the fix. This module re-exports the public names.
"""

from .core import EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR, CheckResult, CheckRunCommandLister, Clients, check, run
from .errors import CheckError, error_message
from .options import LOCAL_SHARE, _validate, add_parser, mount_host
from .output import Progress, json_text, printable, to_json, write_table

__all__ = [
    "EXIT_CLEAN",
    "EXIT_DRIFT",
    "EXIT_ERROR",
    "LOCAL_SHARE",
    "CheckError",
    "CheckResult",
    "CheckRunCommandLister",
    "Clients",
    "Progress",
    "_validate",
    "add_parser",
    "check",
    "error_message",
    "json_text",
    "mount_host",
    "printable",
    "run",
    "to_json",
    "write_table",
]
