"""Escaping for Slack mrkdwn, used by the Slack and the chat-application messages.

Slack treats `&`, `<` and `>` as control characters: `<!channel>`, `<@U123>` and `<url|text>`
are mentions and links. Slack documents that these three characters must be replaced by HTML
entities and that nothing else can be escaped (Slack API documentation, "Formatting text for
app surfaces", section "Escaping text"). `escape` is the only function in sgw-drift that does
this: every renderer passes each piece of text through it exactly once.
"""

from __future__ import annotations

from .content import shorten

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
ZERO_WIDTH_SPACE = "\u200b"


def escape(text: str) -> str:
    """Replace `&`, `<` and `>` by their HTML entities."""
    return text.translate(_ENTITIES)


def escape_within(text: str, limit: int) -> str:
    """Escape `text`, shortening it first (around an ellipsis) until the escaped text fits `limit`.

    The text is shortened before escaping, so an entity is never cut in half.
    """
    escaped = escape(text)
    while len(escaped) > limit:
        overflow = len(escaped) - limit
        text = shorten(text, max(len(text) - overflow, 1))
        escaped = escape(text)
    return escaped


def code_line(text: str) -> str:
    """Escape one line for a ``` code block, where a backtick run could close the block early."""
    return escape(text).replace("`", "`" + ZERO_WIDTH_SPACE)
