"""Fleet Manager watch: audit file operations on a share's mount host and keep browsed folders fresh.

Fleet Manager's file system view runs `AWSFleetManager-*` Command documents with Run Command on
the instance. CloudTrail records each one as a `SendCommand` call whose parameters are hidden
(`HIDDEN_DUE_TO_SECURITY_REASONS`), so the path comes from `ssm:ListCommands` for the command id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from .compare import Difference
from .observability import logger, metrics
from .paths import ROOT, parent_folder
from .service import DriftService
from .shares import Share
from .state import Status

DOCUMENT_PREFIX = "AWSFleetManager-"
# Fleet Manager documents that change files through the mount.
MUTATING_DOCUMENTS = frozenset(
    DOCUMENT_PREFIX + name
    for name in (
        "CopyFileSystemItem",
        "CreateDirectory",
        "DeleteFileSystemItem",
        "MoveFileSystemItem",
        "RenameFileSystemItem",
    )
)
BROWSE_DOCUMENT = DOCUMENT_PREFIX + "GetFileSystemContent"
FRESHNESS_INTERVAL_SECONDS = 60
AUDIT_TTL_SECONDS = 90 * 86_400
PATH_UNKNOWN = "path unknown"


# CloudTrail record of SendCommand, as the `detail` of an EventBridge event (source aws.ssm) ----


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class SessionIssuer(_Model):
    arn: str | None = None
    user_name: str | None = Field(default=None, alias="userName")


class SessionContext(_Model):
    session_issuer: SessionIssuer | None = Field(default=None, alias="sessionIssuer")


class UserIdentity(_Model):
    type: str | None = None
    arn: str | None = None
    principal_id: str | None = Field(default=None, alias="principalId")
    session_context: SessionContext | None = Field(default=None, alias="sessionContext")

    @property
    def role_arn(self) -> str | None:
        """Return the IAM role behind an assumed-role session, or the identity's own ARN."""
        issuer = self.session_context.session_issuer if self.session_context else None
        return (issuer.arn if issuer else None) or self.arn

    @property
    def session_name(self) -> str | None:
        if self.arn and ":assumed-role/" in self.arn:
            return self.arn.rsplit("/", 1)[-1]
        return None


class SendCommandRequest(_Model):
    document_name: str = Field(alias="documentName")
    instance_ids: list[str] = Field(default_factory=list, alias="instanceIds")


class SentCommand(_Model):
    command_id: str = Field(alias="commandId")
    instance_ids: list[str] = Field(default_factory=list, alias="instanceIds")


class SendCommandResponse(_Model):
    command: SentCommand | None = None


class SendCommandDetail(_Model):
    event_name: str = Field(alias="eventName")
    event_time: str = Field(alias="eventTime")
    error_code: str | None = Field(default=None, alias="errorCode")
    user_identity: UserIdentity = Field(alias="userIdentity")
    request_parameters: SendCommandRequest | None = Field(default=None, alias="requestParameters")
    response_elements: SendCommandResponse | None = Field(default=None, alias="responseElements")


class SendCommandEvent(_Model):
    """`AWS API Call via CloudTrail` event of an `ssm:SendCommand` call."""

    id: str
    source: str
    detail_type: str = Field(alias="detail-type")
    detail: SendCommandDetail

    @property
    def document_name(self) -> str:
        return self.detail.request_parameters.document_name if self.detail.request_parameters else ""

    @property
    def command_id(self) -> str | None:
        response = self.detail.response_elements
        return response.command.command_id if response and response.command else None

    @property
    def instance_ids(self) -> list[str]:
        requested = self.detail.request_parameters.instance_ids if self.detail.request_parameters else []
        response = self.detail.response_elements
        sent = response.command.instance_ids if response and response.command else []
        return list(dict.fromkeys([*requested, *sent]))


# Outcome ---------------------------------------------------------------------------------------


@dataclass
class FleetOutcome:
    """Outcome of one Fleet Manager call; `action` is one of the constants below."""

    action: str
    audits: list[dict] = field(default_factory=list)
    checked: list[tuple[str, str]] = field(default_factory=list)  # (share ARN, folder)
    refreshed: list[tuple[str, str]] = field(default_factory=list)


IGNORED_FAILED = "ignored_failed_call"
IGNORED_OWN = "ignored_own_call"
IGNORED_DOCUMENT = "ignored_document"
IGNORED_INSTANCE = "ignored_instance"
AUDITED = "audited"
CHECKED = "checked"
SKIPPED = "skipped"


class FleetWatch:
    """Acts on Fleet Manager `SendCommand` calls aimed at the instances that mount configured shares."""

    def __init__(self, service: DriftService, ssm_client, *, own_role_arns: tuple[str, ...] = ()) -> None:
        self.service = service
        self.ssm = ssm_client
        self.own_roles = {_role_name(arn) for arn in own_role_arns}

    def handle(self, event: SendCommandEvent) -> FleetOutcome:
        detail = event.detail
        if detail.error_code:
            logger.info(
                "failed Fleet Manager call ignored",
                error_code=detail.error_code,
                document=event.document_name,
            )
            return FleetOutcome(IGNORED_FAILED)
        if _role_name(detail.user_identity.role_arn or "") in self.own_roles:
            logger.info("call made by sgw-drift itself ignored", document=event.document_name)
            return FleetOutcome(IGNORED_OWN)
        document = event.document_name
        if document not in MUTATING_DOCUMENTS and document != BROWSE_DOCUMENT:
            return FleetOutcome(IGNORED_DOCUMENT)
        mounted = {instance: self._shares_on(instance) for instance in event.instance_ids}
        mounted = {instance: shares for instance, shares in mounted.items() if shares}
        if not mounted:
            logger.info(
                "Fleet Manager call on an instance that mounts no watched share ignored",
                document=document,
                instance_ids=event.instance_ids,
            )
            return FleetOutcome(IGNORED_INSTANCE)

        paths = self.recover_paths(event.command_id)
        if document in MUTATING_DOCUMENTS:
            outcome = FleetOutcome(AUDITED)
            for instance, shares in mounted.items():
                self._audit(event, instance, shares, paths, outcome)
        else:
            outcome = FleetOutcome(SKIPPED)
            for instance, shares in mounted.items():
                self._freshness(instance, shares, paths, outcome)
        return outcome

    # Paths --------------------------------------------------------------------------------------

    def recover_paths(self, command_id: str | None) -> list[str] | None:
        """Return the absolute paths among the command's parameters, or None when they cannot be read.

        NOTE: AWS does not publish the parameter names of the AWSFleetManager-* file documents
        (GetFileSystemContent uses `Path`), so every parameter value that is an absolute path counts,
        `Path` first.
        """
        if not command_id:
            return None
        try:
            commands = self.ssm.list_commands(CommandId=command_id).get("Commands", [])
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "cannot read the Fleet Manager command's parameters", command_id=command_id, error=str(error)
            )
            return None
        if not commands:
            logger.warning("Fleet Manager command not found by ListCommands", command_id=command_id)
            return None
        parameters: dict[str, list[str]] = commands[0].get("Parameters") or {}
        names = sorted(parameters, key=lambda name: (name != "Path", name))
        paths = [value for name in names for value in parameters[name] if value.startswith("/")]
        return list(dict.fromkeys(paths)) or None

    def _shares_on(self, instance_id: str) -> list[Share]:
        return [
            share
            for share in self.service.registry.shares
            if share.mount is not None and share.mount.instance_id == instance_id
        ]

    # Mutating documents ---------------------------------------------------------------------------

    def _audit(
        self,
        event: SendCommandEvent,
        instance: str,
        shares: list[Share],
        paths: list[str] | None,
        outcome: FleetOutcome,
    ) -> None:
        located = _locate(shares, paths or [])
        touched_shares = list(dict.fromkeys(share.arn for share, _ in located))
        share_arn = None
        if len(touched_shares) == 1:
            share_arn = touched_shares[0]
        elif len(shares) == 1:
            share_arn = shares[0].arn
        identity = event.detail.user_identity
        audit: dict[str, Any] = {
            "operation": event.document_name.removeprefix(DOCUMENT_PREFIX),
            "document": event.document_name,
            "principal": identity.role_arn or "-",
            "session": identity.session_name or identity.principal_id or "-",
            "event_time": event.detail.event_time,
            "instance_id": instance,
            "share_arn": share_arn,
            "paths": paths or [],
            "command_id": event.command_id,
            "drift": None,
        }
        if paths is None:
            logger.warning(
                "Fleet Manager operation audited with path unknown",
                instance_id=instance,
                document=event.document_name,
                command_id=event.command_id,
            )
        else:
            audit["drift"] = self._verify_touched(located, outcome)
        self._record_audit(audit)
        self.service.incidents.publisher.publish_audit(audit)
        metrics.add_metric(name="FleetManagerOperations", unit=MetricUnit.Count, value=1)
        outcome.audits.append(audit)

    def _verify_touched(self, located: list[tuple[Share, str]], outcome: FleetOutcome) -> str | None:
        """Verify the folders the operation touched; drift is not expected, since it went through the gateway.

        Differences at the touched paths themselves are left out: the gateway may still be uploading
        the change. Any other difference is drift, reported here and handed to the pipeline.
        """
        touched: dict[tuple[str, str], tuple[Share, set[str]]] = {}
        for share, relative in located:
            folder = parent_folder(relative) if relative else ROOT
            touched.setdefault((share.arn, folder), (share, set()))[1].add(relative)
        findings: list[str] = []
        for (_, folder), (share, relatives) in touched.items():
            result = self.service.verifier.verify_folder(share, folder, now=self.service.clock.now())
            outcome.checked.append((share.arn, folder))
            if not result.verified:
                findings.append(f"{folder} not verified ({result.error})")
                continue
            drift = [difference for difference in result.drift if not _is_touched(difference, relatives)]
            if drift:
                findings.append(_summary(folder, drift))
                self._hand_over(share, folder, outcome)
        return "; ".join(findings) or None

    def _record_audit(self, audit: dict) -> None:
        now = self.service.clock.now()
        item = {key: value for key, value in audit.items() if value not in (None, [], "")}
        self.service.store.table.put_item(
            Item={
                **item,
                "pk": f"AUDIT#{audit['instance_id']}",
                "sk": f"{audit['event_time']}#{audit.get('command_id') or ''}",
                "recorded_at": Decimal(str(round(now, 3))),
                "expiration": int(now) + AUDIT_TTL_SECONDS,
            }
        )
        logger.info(
            "Fleet Manager operation audited",
            instance_id=audit["instance_id"],
            document=audit["document"],
            share_arn=audit["share_arn"],
            path_count=len(audit["paths"]),
            command_id=audit.get("command_id"),
            drift=bool(audit["drift"]),
        )

    # Browsing ---------------------------------------------------------------------------------------

    def _freshness(
        self, instance: str, shares: list[Share], paths: list[str] | None, outcome: FleetOutcome
    ) -> None:
        if paths is None:
            logger.warning(
                "Fleet Manager folder view with path unknown, no freshness check", instance_id=instance
            )
            return
        for share, relative in _locate(shares, paths[:1]):
            folder = ROOT + relative.rstrip("/") if relative else ROOT
            if not self._claim_check(share.arn, folder):
                logger.info("folder checked within the last minute, skipped", share_arn=share.arn)
                continue
            outcome.action = CHECKED
            outcome.checked.append((share.arn, folder))
            self._hand_over(share, folder, outcome)

    def _claim_check(self, share_arn: str, folder: str) -> bool:
        """Record a freshness check of the folder unless one ran within the last minute."""
        now = self.service.clock.now()
        try:
            self.service.store.table.put_item(
                Item={
                    "pk": f"FRESHNESS#{share_arn}",
                    "sk": "FOLDER#"
                    + hashlib.sha256(folder.encode("utf-8", "surrogateescape")).hexdigest()[:40],
                    "checked_at": Decimal(str(round(now, 3))),
                    "expiration": int(now) + 2 * FRESHNESS_INTERVAL_SECONDS,
                },
                ConditionExpression="attribute_not_exists(pk) OR checked_at <= :cutoff",
                ExpressionAttributeValues={
                    ":cutoff": Decimal(str(round(now - FRESHNESS_INTERVAL_SECONDS, 3)))
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _hand_over(self, share: Share, folder: str, outcome: FleetOutcome) -> None:
        """Mark the folder dirty and let the pipeline verify it and request the minimal refresh."""
        self.service.store.mark_dirty(
            share.arn,
            folder,
            relative_key=None,
            deleted=False,
            unverified=not self.service.verifier.can_verify(share),
        )
        self.service.process([share.arn])
        waiting = [
            record
            for record in self.service.store.folders(share.arn)
            if record.folder == folder and record.status in (Status.PENDING, Status.REFRESHING)
        ]
        if waiting:
            outcome.refreshed.append((share.arn, folder))
            logger.info(
                "stale folder seen through Fleet Manager, refresh requested",
                share_arn=share.arn,
                status=waiting[0].status,
            )


def _locate(shares: list[Share], paths: list[str]) -> list[tuple[Share, str]]:
    """Map absolute paths on the instance to (share, path relative to the share root); others are dropped."""
    located = []
    for path in paths:
        best: tuple[Share, str] | None = None
        best_length = -1
        for share in shares:
            assert share.mount is not None
            mount = share.mount.path.rstrip("/")
            inside = path == mount or path.startswith(mount + "/")
            # Of nested mount paths, the longest one that contains the path is the share it is on.
            if inside and len(mount) > best_length:
                best, best_length = (share, path[len(mount) :].strip("/")), len(mount)
        if best is not None:
            located.append(best)
    return located


def _is_touched(difference: Difference, relatives: set[str]) -> bool:
    path = difference.path.rstrip("/")
    return any(path == relative or path.startswith(relative + "/") for relative in relatives if relative)


def _summary(folder: str, drift: list[Difference]) -> str:
    sample = ", ".join(f"{difference.kind.value} {difference.path!r}" for difference in drift[:5])
    more = f" and {len(drift) - 5} more" if len(drift) > 5 else ""
    return f"{len(drift)} difference(s) in {folder}: {sample}{more}"


def _role_name(arn: str) -> str:
    """Return the role name of a role ARN (`role/path/Name`) or of an assumed-role ARN.

    An assumed-role ARN has the form `assumed-role/Name/session`.
    """
    resource = arn.split(":", 5)[-1]
    if resource.startswith("assumed-role/"):
        return resource.split("/")[1]
    if resource.startswith("role/"):
        return resource.rsplit("/", 1)[-1]
    return ""
