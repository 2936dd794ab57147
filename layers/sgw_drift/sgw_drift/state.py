"""DynamoDB state: object sequencers, dirty folders, gateway refresh slots and incidents.

One table with a `pk`/`sk` key and a TTL attribute `expiration` (shared with Powertools
idempotency records, which use their own `idempotency#` partition keys). Folder paths and
object keys are hashed into sort keys because a key may exceed DynamoDB's 1,024-byte limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from .clock import Clock

SEQUENCER_TTL_SECONDS = 7 * 86_400
FOLDER_TTL_SECONDS = 30 * 86_400
MAX_KEYS_PER_FOLDER = 200


class Status:
    """Life of a folder record: dirty → (clean and deleted) | pending → refreshing → dirty again."""

    DIRTY = "dirty"  # edited, not verified yet
    PENDING = "pending"  # drift confirmed (or unverified share), waiting for a refresh slot
    REFRESHING = "refreshing"  # part of a refresh in flight
    FAILED = "failed"  # refresh attempts exhausted; kept for the incident and the next sweep


@dataclass
class FolderRecord:
    share_arn: str
    folder: str
    status: str
    first_seen: float
    last_seen: float
    edit_count: int = 0
    attempts: int = 0
    created_keys: set[str] = field(default_factory=set)
    deleted_keys: set[str] = field(default_factory=set)
    keys_overflow: bool = False
    late_edits: int = 0
    unverified: bool = False
    counted: bool = False  # its drift is already in the incident's counts
    reservation: str | None = None
    last_error: str | None = None


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:40]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _number(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class StateStore:
    def __init__(self, table, clock: Clock) -> None:
        self.table = table
        self.clock = clock

    # Object sequencers --------------------------------------------------------------------

    def advance_sequencer(self, bucket: str, key: str, sequencer: str, is_newer) -> bool:
        """Store `sequencer` for the key when it is newer than the stored one; return whether it was."""
        item_key = {"pk": f"OBJECT#{bucket}", "sk": f"KEY#{_hash(key)}"}
        for _ in range(5):
            current = self.table.get_item(Key=item_key, ConsistentRead=True).get("Item")
            stored = current.get("sequencer") if current else None
            if not is_newer(sequencer, stored):
                return False
            condition = Attr("pk").not_exists() if current is None else Attr("sequencer").eq(stored)
            try:
                self.table.put_item(
                    Item={
                        **item_key,
                        "sequencer": sequencer,
                        "expiration": int(self.clock.now()) + SEQUENCER_TTL_SECONDS,
                    },
                    ConditionExpression=condition,
                )
                return True
            except ClientError as error:
                if not _conditional_failed(error):
                    raise
        raise RuntimeError(f"sequencer of s3://{bucket}/{key!r} changed five times during one update")

    # Folders ------------------------------------------------------------------------------

    def _folder_key(self, share_arn: str, folder: str) -> dict[str, str]:
        return {"pk": f"SHARE#{share_arn}", "sk": f"FOLDER#{_hash(folder)}"}

    def mark_dirty(
        self, share_arn: str, folder: str, *, relative_key: str | None, deleted: bool, unverified: bool
    ) -> None:
        """Record an edit of `relative_key` in `folder` (None: a sweep found drift there).

        A folder already being refreshed counts it as a late edit instead.
        """
        now = _number(self.clock.now())
        key = self._folder_key(share_arn, folder)
        common = {
            ":folder": folder,
            ":now": now,
            ":one": 1,
            ":expiration": int(self.clock.now()) + FOLDER_TTL_SECONDS,
            ":unverified": unverified,
        }
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression=(
                    "SET folder = :folder, last_seen = :now, first_seen = if_not_exists(first_seen, :now), "
                    "#status = :dirty, expiration = :expiration, unverified = :unverified, attempts = :zero, "
                    "counted = :false "
                    "ADD edit_count :one"
                ),
                ConditionExpression="attribute_not_exists(#status) OR #status <> :refreshing",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    **common,
                    ":dirty": Status.DIRTY,
                    ":refreshing": Status.REFRESHING,
                    ":zero": 0,
                    ":false": False,
                },
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            self.table.update_item(
                Key=key,
                UpdateExpression="SET last_seen = :now, expiration = :expiration, unverified = :unverified "
                "ADD edit_count :one, late_edits :one",
                ExpressionAttributeValues={
                    key_: value for key_, value in common.items() if key_ != ":folder"
                },
            )
        if relative_key is None:
            return
        attribute = "deleted_keys" if deleted else "created_keys"
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression=f"ADD {attribute} :keys",
                ConditionExpression=f"attribute_not_exists({attribute}) OR size({attribute}) < :cap",
                ExpressionAttributeValues={":keys": {relative_key}, ":cap": MAX_KEYS_PER_FOLDER},
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            self.table.update_item(
                Key=key,
                UpdateExpression="SET keys_overflow = :true",
                ExpressionAttributeValues={":true": True},
            )

    def folders(self, share_arn: str, status: str | None = None) -> list[FolderRecord]:
        records = [self._record(share_arn, item) for item in self._query(f"SHARE#{share_arn}", "FOLDER#")]
        return [record for record in records if status is None or record.status == status]

    def update_folder(self, share_arn: str, folder: str, **values: Any) -> bool:
        """Set attributes of an existing folder record; return False when the record is gone."""
        names = {f"#{name}": name for name in values}
        expression = "SET " + ", ".join(f"#{name} = :{name}" for name in values)
        try:
            self.table.update_item(
                Key=self._folder_key(share_arn, folder),
                UpdateExpression=expression,
                ConditionExpression=Attr("pk").exists(),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    f":{name}": _number(value) if isinstance(value, float) else value
                    for name, value in values.items()
                },
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False  # verified clean and deleted meanwhile: nothing left to update
            raise
        return True

    def delete_folder(self, share_arn: str, folder: str, *, unless_edited_after: float | None = None) -> bool:
        """Delete a verified folder record unless an edit arrived after `unless_edited_after`."""
        kwargs: dict[str, Any] = {}
        if unless_edited_after is not None:
            kwargs["ConditionExpression"] = Attr("last_seen").lte(_number(unless_edited_after))
        try:
            self.table.delete_item(Key=self._folder_key(share_arn, folder), **kwargs)
            return True
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise

    def _record(self, share_arn: str, item: dict) -> FolderRecord:
        item = _plain(item)
        return FolderRecord(
            share_arn=share_arn,
            folder=item["folder"],
            status=item.get("status", Status.DIRTY),
            first_seen=item.get("first_seen", 0.0),
            last_seen=item.get("last_seen", 0.0),
            edit_count=item.get("edit_count", 0),
            attempts=item.get("attempts", 0),
            created_keys=set(item.get("created_keys", ())),
            deleted_keys=set(item.get("deleted_keys", ())),
            keys_overflow=item.get("keys_overflow", False),
            late_edits=item.get("late_edits", 0),
            unverified=item.get("unverified", False),
            counted=item.get("counted", False),
            reservation=item.get("reservation"),
            last_error=item.get("last_error"),
        )

    def _query(self, pk: str, sk_prefix: str) -> Iterator[dict]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(sk_prefix),
            "ConsistentRead": True,
        }
        while True:
            page = self.table.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # Gateway refresh slots ------------------------------------------------------------------

    def load_slots(self, gateway_arn: str) -> tuple[dict, int | None]:
        """Return the gateway's slot record and its version (None when it does not exist yet)."""
        item = self.table.get_item(
            Key={"pk": f"GATEWAY#{gateway_arn}", "sk": "SLOTS"}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return {"inflight": {}, "last_call": 0}, None
        item = _plain(item)
        return {"inflight": item.get("inflight", {}), "last_call": item.get("last_call", 0)}, item["version"]

    def save_slots(self, gateway_arn: str, record: dict, version: int | None) -> bool:
        """Write the slot record unless another writer changed it after `version` was read."""
        condition = Attr("pk").not_exists() if version is None else Attr("version").eq(version)
        item = {
            "pk": f"GATEWAY#{gateway_arn}",
            "sk": "SLOTS",
            "version": (version or 0) + 1,
            "last_call": _number(record["last_call"]),
            "inflight": _to_dynamo(record["inflight"]),
        }
        try:
            self.table.put_item(Item=item, ConditionExpression=condition)
            return True
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise

    # Incidents --------------------------------------------------------------------------------

    def load_incident(self, share_arn: str) -> dict | None:
        item = self.table.get_item(
            Key={"pk": f"SHARE#{share_arn}", "sk": "INCIDENT"}, ConsistentRead=True
        ).get("Item")
        return _without_keys(_plain(item)) if item else None

    def save_incident(self, share_arn: str, incident: dict, *, expected_version: int | None) -> bool:
        """Write the open incident if its stored version is `expected_version` (None: none stored yet).

        Returns False when another writer got there first; on success `incident["version"]` is the new one.
        """
        condition = Attr("pk").not_exists() if expected_version is None else _version_is(expected_version)
        item = {**incident, "version": (expected_version or 0) + 1}
        try:
            self.table.put_item(
                Item={"pk": f"SHARE#{share_arn}", "sk": "INCIDENT", **_to_dynamo(item)},
                ConditionExpression=condition,
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        incident["version"] = item["version"]
        return True

    def close_incident(self, share_arn: str, incident: dict, *, expected_version: int) -> bool:
        """Move the open incident to its history record (kept 90 days).

        Returns False, and changes nothing, when the incident changed since `expected_version`.
        """
        try:
            self.table.delete_item(
                Key={"pk": f"SHARE#{share_arn}", "sk": "INCIDENT"},
                ConditionExpression=_version_is(expected_version),
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        history = {**incident, "expiration": int(self.clock.now()) + 90 * 86_400}
        self.table.put_item(
            Item={"pk": f"SHARE#{share_arn}", "sk": f"INCIDENT#{incident['id']}", **_to_dynamo(history)}
        )
        return True

    def incident_history(self, share_arn: str) -> list[dict]:
        return [_without_keys(_plain(item)) for item in self._query(f"SHARE#{share_arn}", "INCIDENT#")]


def _version_is(version: int):
    """Condition that the stored item has `version`; 0 also matches a record written before versions."""
    condition = Attr("version").eq(version)
    return condition | Attr("version").not_exists() if version == 0 else condition


def _without_keys(item: dict) -> dict:
    return {name: value for name, value in item.items() if name not in ("pk", "sk", "expiration")}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {key: _to_dynamo(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(item) for item in value]
    return value
