"""Refresh planner: a pure function from dirty folders to `RefreshCache` calls.

A call carries one `Recursive` flag for its whole `FolderList` of 1 to 50 entries
(Storage Gateway API reference, RefreshCache). Refreshing a folder makes the gateway LIST it
and HEAD every object in it, so the planner keeps folders exact and non-recursive, and replaces
a group of folders by one recursive ancestor only when they do not fit otherwise. It collapses
the deepest ancestor first, because a deep ancestor covers the fewest extra objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .paths import MAX_FOLDER_ENTRY_CHARS, ROOT, ancestors, depth, folder_list_entry

MAX_FOLDERS_PER_CALL = 50


@dataclass(frozen=True)
class RefreshPlan:
    """One `RefreshCache` call: its folder list and recursion flag."""

    folders: tuple[str, ...]
    recursive: bool

    def covers(self, folder: str) -> bool:
        if folder in self.folders:
            return True
        return self.recursive and any(ancestor in self.folders for ancestor in ancestors(folder))


def plan_refresh(
    folders: Iterable[str],
    *,
    max_entries: int = MAX_FOLDERS_PER_CALL,
    max_calls: int = 2,
) -> list[RefreshPlan]:
    """Cover every folder with at most `max_calls` calls of at most `max_entries` folders each.

    Exact folders go in non-recursive calls and collapsed ancestors in recursive ones.
    """
    exact: set[str] = set()
    recursive: set[str] = set()
    for folder in folders:
        entry = folder_list_entry(folder)
        if len(entry) <= MAX_FOLDER_ENTRY_CHARS:
            exact.add(entry)
        else:
            # Too long for FolderList: its nearest ancestor that fits covers it recursively.
            recursive.add(
                next(ancestor for ancestor in ancestors(entry) if len(ancestor) <= MAX_FOLDER_ENTRY_CHARS)
            )
    while not _fits(exact, recursive, max_entries, max_calls):
        counts: Counter[str] = Counter()
        for folder in exact | recursive:
            counts.update(ancestors(folder))
        candidates = [ancestor for ancestor, count in counts.items() if count >= 2 or ancestor in exact]
        if not candidates:
            break  # unreachable while two entries remain, because the root is an ancestor of both
        deepest = max(depth(ancestor) for ancestor in candidates)
        # Ancestors at one depth cover disjoint subtrees, so they collapse independently.
        for ancestor in sorted(
            (candidate for candidate in candidates if depth(candidate) == deepest),
            key=lambda candidate: (-counts[candidate], candidate),
        ):
            exact = {folder for folder in exact if not _within(folder, ancestor)}
            recursive = {folder for folder in recursive if not _within(folder, ancestor)} | {ancestor}
            if _fits(exact, recursive, max_entries, max_calls):
                break
    return _chunk(sorted(exact), max_entries, recursive=False) + _chunk(
        sorted(recursive), max_entries, recursive=True
    )


def _fits(exact: set[str], recursive: set[str], max_entries: int, max_calls: int) -> bool:
    return -(-len(exact) // max_entries) - (-len(recursive) // max_entries) <= max_calls


def _within(folder: str, ancestor: str) -> bool:
    return folder == ancestor or ancestor == ROOT or folder.startswith(ancestor + "/")


def _chunk(folders: list[str], size: int, *, recursive: bool) -> list[RefreshPlan]:
    return [
        RefreshPlan(tuple(folders[start : start + size]), recursive) for start in range(0, len(folders), size)
    ]


def plan_one_call(
    folders: Iterable[str],
    *,
    direct_objects: Callable[[str], int],
    subtree_objects: Callable[[str, float], int],
    max_entries: int = MAX_FOLDERS_PER_CALL,
    tolerance: float = 1.1,
) -> RefreshPlan | None:
    """Cover every folder with one recursive call if that rescans little more than the folders hold.

    `direct_objects(folder)` counts the objects directly in a folder, which a non-recursive refresh
    rescans. `subtree_objects(folder, limit)` counts the objects below it, which a recursive refresh
    rescans; it may stop counting past `limit`. Ancestors replace groups of folders, deepest first,
    while the whole call stays within `tolerance` times the objects of the folders themselves.
    Returns None when no such call exists; `plan_refresh` then plans exact calls.
    """
    entries = {folder_list_entry(folder) for folder in folders}
    if len(entries) <= max_entries:
        return RefreshPlan(tuple(sorted(entries)), recursive=False)
    if any(len(entry) > MAX_FOLDER_ENTRY_CHARS for entry in entries):
        return None
    budget = max(sum(direct_objects(entry) for entry in entries) * tolerance, 1.0)
    entries = {entry for entry in entries if not any(ancestor in entries for ancestor in ancestors(entry))}
    cost = {entry: subtree_objects(entry, budget) for entry in entries}
    total = sum(cost.values())
    rejected: set[str] = set()
    while len(entries) > max_entries and total <= budget:
        counts: Counter[str] = Counter()
        for entry in entries:
            counts.update(ancestor for ancestor in ancestors(entry) if ancestor not in rejected)
        candidates = [ancestor for ancestor, count in counts.items() if count >= 2]
        if not candidates:
            return None
        deepest = max(depth(ancestor) for ancestor in candidates)
        for ancestor in sorted(
            (candidate for candidate in candidates if depth(candidate) == deepest),
            key=lambda candidate: (-counts[candidate], candidate),
        ):
            covered = [entry for entry in entries if _within(entry, ancestor)]
            ancestor_cost = subtree_objects(ancestor, budget)
            change = ancestor_cost - sum(cost[entry] for entry in covered)
            if total + change > budget:
                rejected.add(ancestor)
                continue
            entries = (entries - set(covered)) | {ancestor}
            cost[ancestor] = ancestor_cost
            total += change
            if len(entries) <= max_entries:
                break
    if len(entries) > max_entries or total > budget:
        return None
    return RefreshPlan(tuple(sorted(entries)), recursive=True)
