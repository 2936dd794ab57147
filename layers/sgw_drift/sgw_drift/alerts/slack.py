"""Slack Block Kit messages for incidents, audits and CloudWatch alarms.

Every string placed in a text object goes through `markup.escape` once (directly or through
`escape_within` and `code_line`), so an object key such as `<!channel> urgent.txt` is shown, never
acted on. Slack's limits, from the Block Kit reference ("Blocks" and "Composition objects"):
at most 50 blocks per message, 3,000 characters in a section's text, 10 fields of at most 2,000
characters in a section, 150 characters in a header, 10 elements in a context block. Paths that do
not fit are counted in an "and N more" line.
"""

from __future__ import annotations

from typing import Any

from .catalogue import Catalogue
from .content import Content, build_content, shorten
from .markup import code_line, escape, escape_within
from .model import Alert, Language

MAX_BLOCKS = 50
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
MAX_FIELDS = 10
HEADER_LIMIT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT_LIMIT = (
    2000  # NOTE: Slack documents no separate limit for context text; the field limit is used.
)
FALLBACK_LIMIT = 3000
PATH_LIMIT = 300  # characters of one path shown before it is shortened around an ellipsis
FAILURE_LIMIT = 500
# NOTE: Slack rejects a message whose blocks hold about 13,200 characters of text in all
# (msg_blocks_too_long), a limit it does not document (reported on the slackapi/bolt-js issue
# tracker); this budget keeps every message below that.
TOTAL_TEXT_LIMIT = 12_000


def render(alert: Alert) -> dict[str, Any]:
    """Return the webhook payload (`text` and `blocks`) for an alert."""
    content = build_content(alert)
    blocks = _head(content) + _details(content)
    tail = _tail(content)

    budget = MAX_BLOCKS - len(blocks) - len(tail) - 2  # two blocks are kept: the heading and "and N more"
    # The path heading and the "and N more" line take about 200 characters of the text budget.
    characters = TOTAL_TEXT_LIMIT - text_size({"blocks": blocks + tail}) - 200
    path_blocks, shown = _path_blocks(content, budget, characters)
    if shown:
        blocks.append(_mrkdwn_section(f"*{escape(content.paths_heading(shown))}*"))
        blocks += path_blocks
    hidden = content.more_paths + len(content.paths) - shown
    if hidden:
        blocks.append(_context([content.more(hidden)]))
    blocks += tail
    return {"text": escape_within(content.title, FALLBACK_LIMIT), "blocks": blocks}


def render_alarm(alarm: dict[str, Any], language: Language) -> dict[str, Any]:
    """Return the webhook payload for a CloudWatch alarm notification published to the alert topic."""
    t = Catalogue(language)
    title = t(
        "alarm.title", name=str(alarm.get("AlarmName", "?")), state=str(alarm.get("NewStateValue", "?"))
    )
    fields = [
        (t("alarm.reason"), str(alarm.get("NewStateReason") or t("value.none"))),
        (t("alarm.changed"), str(alarm.get("StateChangeTime") or t("value.none"))),
        (t("alarm.region"), str(alarm.get("Region") or t("value.none"))),
    ]
    blocks = [_header(title), _fields_block(fields)]
    if alarm.get("AlarmDescription"):
        blocks.append(_section(str(alarm["AlarmDescription"])))
    return {"text": escape_within(title, FALLBACK_LIMIT), "blocks": blocks}


# Parts of the message -------------------------------------------------------------------------------


def _head(content: Content) -> list[dict]:
    return [_header(content.title), _section(content.summary)]


def _details(content: Content) -> list[dict]:
    blocks = [
        _fields_block(content.fields[start : start + MAX_FIELDS])
        for start in range(0, len(content.fields), MAX_FIELDS)
    ]
    if content.differences:
        lines = [f"*{escape(content.labels['differences'])}*"]
        lines += [f"• {escape(label)}: {count:,}" for label, count in content.differences]
        blocks.append(_mrkdwn_section("\n".join(lines)))
    return blocks


def _tail(content: Content) -> list[dict]:
    blocks = []
    if content.failures:
        heading = f"*{escape(content.labels['failures'])}*\n"
        share = (SECTION_TEXT_LIMIT - len(heading)) // len(content.failures) - 3
        items = [f"• {escape_within(message, min(FAILURE_LIMIT, share))}" for message in content.failures]
        blocks.append(_mrkdwn_section(heading + "\n".join(items)))
    if content.drift_after:
        heading = f"*{escape(content.labels['drift_after'])}*\n"
        blocks.append(
            _mrkdwn_section(heading + escape_within(content.drift_after, SECTION_TEXT_LIMIT - len(heading)))
        )
    if content.next_steps:
        heading = f"*{escape(content.labels['next_steps'])}*\n"
        blocks.append(
            _mrkdwn_section(
                heading + escape_within("\n".join(content.next_steps), SECTION_TEXT_LIMIT - len(heading))
            )
        )
    if content.footer:
        blocks.append(_context([f"{label}: {value}" for label, value in content.footer]))
    return blocks


def _path_blocks(content: Content, budget: int, characters: int) -> tuple[list[dict], int]:
    """Pack the paths into code-block sections of at most SECTION_TEXT_LIMIT characters.

    Returns the blocks and how many paths they show, using at most `budget` blocks and `characters`
    characters of text in all.
    """
    wrapper = len("```\n```")
    blocks: list[dict] = []
    lines: list[str] = []
    size = wrapper
    used = 0
    shown = 0
    for path in content.paths:
        line = code_line(shorten(path, PATH_LIMIT))
        new_block = not lines or size + len(line) + 1 > SECTION_TEXT_LIMIT
        cost = len(line) + 1 + (wrapper if new_block else 0)
        if used + cost > characters:
            break
        if new_block and lines:
            if len(blocks) + 1 >= budget:
                break
            blocks.append(_code_block(lines))
            lines, size = [], wrapper
        lines.append(line)
        size += len(line) + 1
        used += cost
        shown += 1
    if lines and len(blocks) < budget:
        blocks.append(_code_block(lines))
    elif lines:
        shown -= len(lines)
    return blocks, shown


# Block builders: each escapes the text it is given -----------------------------------------------------


def _header(text: str) -> dict:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": escape_within(text, HEADER_LIMIT), "emoji": False},
    }


def _section(text: str) -> dict:
    return _mrkdwn_section(escape_within(text, SECTION_TEXT_LIMIT))


def _mrkdwn_section(escaped: str) -> dict:
    """A section whose text the caller has escaped already."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": escaped[:SECTION_TEXT_LIMIT]}}


def _fields_block(fields: list[tuple[str, str]]) -> dict:
    items = []
    for label, value in fields[:MAX_FIELDS]:
        heading = f"*{escape(label)}*\n"
        items.append(
            {"type": "mrkdwn", "text": heading + escape_within(value, FIELD_TEXT_LIMIT - len(heading))}
        )
    return {"type": "section", "fields": items}


def _code_block(escaped_lines: list[str]) -> dict:
    return _mrkdwn_section("```\n" + "\n".join(escaped_lines) + "\n```")


def _context(texts: list[str]) -> dict:
    elements = [
        {"type": "mrkdwn", "text": escape_within(text, CONTEXT_TEXT_LIMIT)}
        for text in texts[:CONTEXT_ELEMENTS]
    ]
    return {"type": "context", "elements": elements}


def text_size(payload: dict[str, Any]) -> int:
    """Count the characters of text in all blocks of a payload."""
    total = 0
    for block in payload.get("blocks", []):
        total += len(block.get("text", {}).get("text", ""))
        total += sum(len(item["text"]) for item in block.get("fields", []) + block.get("elements", []))
    return total


def within_limits(payload: dict[str, Any]) -> list[str]:
    """List every way `payload` breaks one of Slack's limits (an empty list when it fits)."""
    problems = []
    blocks = payload.get("blocks", [])
    if text_size(payload) > TOTAL_TEXT_LIMIT:
        problems.append(f"{text_size(payload)} characters of text, more than {TOTAL_TEXT_LIMIT}")
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks, more than {MAX_BLOCKS}")
    for index, block in enumerate(blocks):
        text = block.get("text", {}).get("text", "")
        if block["type"] == "header" and len(text) > HEADER_LIMIT:
            problems.append(f"block {index}: header of {len(text)} characters")
        if block["type"] == "section" and len(text) > SECTION_TEXT_LIMIT:
            problems.append(f"block {index}: section text of {len(text)} characters")
        fields = block.get("fields", [])
        if len(fields) > MAX_FIELDS or any(len(item["text"]) > FIELD_TEXT_LIMIT for item in fields):
            problems.append(f"block {index}: fields over the limits")
        if len(block.get("elements", [])) > CONTEXT_ELEMENTS:
            problems.append(f"block {index}: more than {CONTEXT_ELEMENTS} context elements")
    return problems
