"""An emulated mount host: the Run Command side of an EC2 instance that mounts emulated shares.

moto's SSM runs nothing on `send_command` and has no `list_command_invocations`, so this object
handles the Run Command calls sgw-drift makes (SendCommand, GetCommandInvocation, ListCommands) in
the shapes of the Systems Manager API Reference:

- the stack's listing document lists the emulator's share view and writes the output, in the
  listing script's format, to the output bucket as the SSM agent would;
- `AWSFleetManager-*` file documents perform the operation through the share (write, delete,
  rename, make directory), as Fleet Manager does through the mount, and return the CloudTrail
  `SendCommand` event that EventBridge would deliver.

NOTE: AWS does not publish the parameter names of the Fleet Manager file documents; this host uses
`Path` (as GetFileSystemContent does), `NewName` and `Destination`.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from ..emulator import FileGatewayEmulator
from ..listing import Entry
from ..mountlisting import FOOTER, HEADER, encode_text
from ..paths import ROOT
from ..shares import describe_shares

LISTING_STEP = "listFolders"
FLEET_PREFIX = "AWSFleetManager-"


@dataclass
class _Invocation:
    command_id: str
    instance_id: str
    document: str
    parameters: dict[str, list[str]]
    output_url: str = ""
    stdout: str = ""
    polls: int = 0
    status: str = "Success"


@dataclass
class MountedShare:
    share_arn: str
    path: str


@dataclass
class EmulatedMountHost:
    """Run Command side of one or more instances that mount emulated shares."""

    gateway: FileGatewayEmulator
    s3: object
    listing_document: str
    region: str = "ap-northeast-1"
    account: str = "123456789012"
    mounts: dict[str, list[MountedShare]] = field(default_factory=dict)  # instance id -> shares
    invocations: dict[str, _Invocation] = field(default_factory=dict)
    sent: list[dict] = field(default_factory=list)  # every SendCommand request, for assertions
    not_visible_polls: int = 1  # GetCommandInvocation raises InvocationDoesNotExist this many times first
    truncate_output_at: int | None = None  # cut the listing output, as an interrupted upload would

    def mount(self, instance_id: str, share_arn: str, path: str) -> None:
        self.mounts.setdefault(instance_id, []).append(MountedShare(share_arn, path.rstrip("/")))

    # SSM API ------------------------------------------------------------------------------------

    def send_command(self, **request) -> dict:
        self.sent.append(request)
        (instance_id,) = request["InstanceIds"]
        command_id = str(uuid.uuid4())
        invocation = _Invocation(
            command_id, instance_id, request["DocumentName"], request.get("Parameters", {})
        )
        self.invocations[command_id] = invocation
        if invocation.document == self.listing_document:
            self._run_listing(invocation, request["OutputS3BucketName"], request.get("OutputS3KeyPrefix", ""))
        return {
            "Command": {
                "CommandId": command_id,
                "DocumentName": invocation.document,
                "Status": "Pending",
                "InstanceIds": [instance_id],
                "Parameters": invocation.parameters,
            }
        }

    def get_command_invocation(self, *, CommandId: str, InstanceId: str, **_: object) -> dict:  # noqa: N803
        invocation = self.invocations.get(CommandId)
        if (
            invocation is None
            or invocation.instance_id != InstanceId
            or invocation.polls < self.not_visible_polls
        ):
            if invocation is not None:
                invocation.polls += 1
            raise ClientError(
                {"Error": {"Code": "InvocationDoesNotExist", "Message": ""}}, "GetCommandInvocation"
            )
        invocation.polls += 1
        status = "InProgress" if invocation.polls == self.not_visible_polls + 1 else invocation.status
        return {
            "CommandId": CommandId,
            "InstanceId": InstanceId,
            "DocumentName": invocation.document,
            "PluginName": LISTING_STEP,
            "Status": status,
            "StatusDetails": status,
            # GetCommandInvocation shows only the first 24,000 characters of stdout.
            "StandardOutputContent": invocation.stdout[:24_000] if status != "InProgress" else "",
            "StandardOutputUrl": invocation.output_url if status == "Success" else "",
        }

    def list_commands(self, *, CommandId: str, **_: object) -> dict:  # noqa: N803
        invocation = self.invocations.get(CommandId)
        if invocation is None:
            return {"Commands": []}
        return {
            "Commands": [
                {
                    "CommandId": CommandId,
                    "DocumentName": invocation.document,
                    "InstanceIds": [invocation.instance_id],
                    "Parameters": invocation.parameters,
                    "Status": "Success",
                }
            ]
        }

    # Fleet Manager --------------------------------------------------------------------------------

    def fleet_manager(
        self,
        instance_id: str,
        operation: str,
        parameters: dict[str, list[str]],
        *,
        principal_role: str,
        session: str,
        when: float,
    ) -> dict:
        """Run a Fleet Manager file document through the mount and return its CloudTrail event."""
        document = FLEET_PREFIX + operation
        self._apply(instance_id, operation, parameters)
        response = self.send_command(DocumentName=document, InstanceIds=[instance_id], Parameters=parameters)
        command_id = response["Command"]["CommandId"]
        return cloudtrail_send_command(
            document,
            instance_id,
            command_id,
            principal_role=principal_role,
            session=session,
            when=when,
            account=self.account,
            region=self.region,
        )

    def _apply(self, instance_id: str, operation: str, parameters: dict[str, list[str]]) -> None:
        if operation == "GetFileSystemContent":
            return
        share_arn, path = self._share_path(instance_id, parameters["Path"][0])
        if operation == "DeleteFileSystemItem":
            self.gateway.delete_file(share_arn, path)
        elif operation == "CreateDirectory":
            self.gateway.make_directory(share_arn, path)
        elif operation == "RenameFileSystemItem":
            parent = path.rpartition("/")[0]
            self.gateway.rename(share_arn, path, f"{parent}/{parameters['NewName'][0]}".lstrip("/"))
        elif operation == "MoveFileSystemItem":
            _, target = self._share_path(instance_id, parameters["Destination"][0])
            self.gateway.rename(share_arn, path, target)
        elif operation == "CopyFileSystemItem":
            _, target = self._share_path(instance_id, parameters["Destination"][0])
            share = describe_shares(self.gateway.client(), [share_arn], {})[0]
            body = self.s3.get_object(Bucket=share.bucket, Key=share.prefix + path)["Body"].read()
            self.gateway.write_file(share_arn, target, body)
        else:
            raise ValueError(f"unknown Fleet Manager operation {operation!r}")

    def _share_path(self, instance_id: str, absolute: str) -> tuple[str, str]:
        for mounted in self.mounts.get(instance_id, []):
            if absolute.startswith(mounted.path + "/"):
                return mounted.share_arn, absolute[len(mounted.path) + 1 :]
        raise ValueError(f"{absolute!r} is not under a share mounted on {instance_id}")

    # Listing --------------------------------------------------------------------------------------

    def _run_listing(self, invocation: _Invocation, bucket: str, prefix: str) -> None:
        mount_path = _decode(invocation.parameters["MountPath"][0]).rstrip("/")
        folders = [_decode(item) for item in invocation.parameters["Folders"][0].split(",")]
        recursive = invocation.parameters.get("Recursive", ["false"])[0] == "true"
        mounted = next(
            (item for item in self.mounts.get(invocation.instance_id, []) if item.path == mount_path), None
        )
        if mounted is None:
            text = "sgw-drift-error not-a-mount-point\n"
            invocation.status = "Failed"
        else:
            text = self.listing_output(mounted.share_arn, folders, recursive=recursive)
        if self.truncate_output_at is not None:
            text = text[: self.truncate_output_at]
        invocation.stdout = text
        # The agent's layout: prefix/command id/instance id/plugin/step name/stdout.
        key = "/".join(
            [
                prefix.strip("/"),
                invocation.command_id,
                invocation.instance_id,
                "awsrunShellScript",
                LISTING_STEP,
                "stdout",
            ]
        )
        self.s3.put_object(Bucket=bucket, Key=key, Body=text.encode("ascii"))
        invocation.output_url = f"https://s3.{self.region}.amazonaws.com/{bucket}/{key}"

    def listing_output(self, share_arn: str, folders: list[str], *, recursive: bool) -> str:
        """Return what the listing script prints for `folders` of the share's current view."""
        view = self.gateway.view(share_arn)
        lines = [HEADER]
        for folder in folders:
            item = encode_text(folder)
            base = "" if folder == ROOT else folder.strip("/") + "/"
            if base and base not in view:
                lines.append(f"folder {item} absent")
                continue
            records = b"".join(
                _record(entry, base)
                for path, entry in sorted(view.items())
                if path.startswith(base)
                and path != base
                and (recursive or "/" not in path[len(base) :].rstrip("/"))
            )
            lines.append(f"folder {item} ok {len(records)}")
            encoded = base64.b64encode(records).decode("ascii")
            lines.extend(encoded[start : start + 76] for start in range(0, len(encoded), 76))
            lines.append(f"end {item}")
        lines.append(FOOTER)
        return "\n".join(lines) + "\n"


def _record(entry: Entry, base: str) -> bytes:
    name = entry.path[len(base) :].rstrip("/").encode("utf-8", "surrogateescape")
    kind = b"d" if entry.is_dir else b"f"
    return b"%s %d %f %s\0" % (kind, entry.size or 0, entry.mtime or 0.0, name)


def _decode(item: str) -> str:
    return base64.b64decode(item).decode("utf-8", "surrogateescape")


def cloudtrail_send_command(
    document: str,
    instance_id: str,
    command_id: str,
    *,
    principal_role: str,
    session: str,
    when: float,
    account: str,
    region: str,
) -> dict:
    """Build the EventBridge event of a console `SendCommand` call, shaped like a real CloudTrail record."""
    time = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    role_arn = f"arn:aws:iam::{account}:role/{principal_role}"
    detail = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE{principal_role.upper()[:8]}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{principal_role}/{session}",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": role_arn, "userName": principal_role}
            },
        },
        "eventTime": time,
        "eventSource": "ssm.amazonaws.com",
        "eventName": "SendCommand",
        "awsRegion": region,
        "requestParameters": {
            "instanceIds": [instance_id],
            "documentName": document,
            "documentVersion": "$DEFAULT",
            "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
            "interactive": False,
        },
        "responseElements": {
            "command": {
                "commandId": command_id,
                "documentName": document,
                "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "instanceIds": [instance_id],
                "status": "Pending",
            }
        },
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "sessionCredentialFromConsole": "true",
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ssm",
        "account": account,
        "time": time,
        "region": region,
        "resources": [],
        "detail": detail,
    }
