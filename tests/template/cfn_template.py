"""Offline helpers for the template tests: load, transform and resolve template.yaml, load events/.

Nothing here calls AWS. The SAM transform runs through aws-sam-translator with a managed policy loader
that returns no policies, and intrinsic functions are resolved against the test parameter values below.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
EVENTS_DIR = REPO_ROOT / "events"

REGION = "ap-northeast-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "sgw-drift"
PSEUDO_PARAMETERS = {
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::StackName": STACK_NAME,
    "AWS::URLSuffix": "amazonaws.com",
}

DEMO_BUCKET = "sgw-drift-demo-bucket"
SECOND_BUCKET = "sgw-drift-second-bucket"
DEMO_SHARE_ARN = f"arn:aws:storagegateway:{REGION}:{ACCOUNT_ID}:share/share-1A2B3C4D"
SECOND_SHARE_ARN = f"arn:aws:storagegateway:{REGION}:{ACCOUNT_ID}:share/share-5E6F7A8B"
SLACK_WEBHOOK_SECRET_ARN = (
    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:sgw-drift/slack-webhook-AbCdEf"
)

MOUNT_INSTANCE_IDS = ("i-052fcf7f6fa590e08", "i-0abcdef1234567890")

# Two buckets, two shares and two mount hosts, so that list parameters are resolved as lists and not by luck.
TEST_PARAMETERS = {
    "BucketNames": f"{DEMO_BUCKET},{SECOND_BUCKET}",
    "FileShareArns": f"{DEMO_SHARE_ARN},{SECOND_SHARE_ARN}",
    "SlackWebhookSecretArn": SLACK_WEBHOOK_SECRET_ARN,
    "MountInstanceIds": ",".join(MOUNT_INSTANCE_IDS),
}


def _plain(node: Any) -> Any:
    """Convert cfn-lint's node subclasses (dict_node, str_node, ...) into plain Python values."""
    return json.loads(json.dumps(node))


@cache
def _load_template_cached() -> str:
    return json.dumps(cfn_yaml.load(str(TEMPLATE_PATH)))


def load_template() -> dict[str, Any]:
    """Return template.yaml as a dict, with short-form tags such as !Ref in their long form."""
    return json.loads(_load_template_cached())


class _NoManagedPolicies:
    """Managed policy loader for the translator that fetches nothing from IAM."""

    def load(self) -> dict[str, str]:
        return {}


def transform_template(parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the CloudFormation template that the SAM transform makes of template.yaml, offline.

    CodeUri and ContentUri become s3:// placeholders, because the translator accepts local paths only
    after `sam build` and `sam package` have uploaded them.
    """
    template = load_template()
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = f"s3://sgw-drift-artifacts/{logical_id}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = f"s3://sgw-drift-artifacts/{logical_id}.zip"

    # The translator reads the Region for AWS::Region and for the ARNs it builds from a default boto3
    # session, which takes it from AWS_DEFAULT_REGION. Creating that session sends no request.
    values = {**TEST_PARAMETERS, **(parameters or {})}
    with mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": REGION}):
        return _plain(transform(template, values, _NoManagedPolicies()))


def parameter_values(
    template: Mapping[str, Any], overrides: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return each template parameter's test value (or default) as CloudFormation would pass it to Ref."""
    supplied = {**TEST_PARAMETERS, **(overrides or {})}
    values: dict[str, Any] = {}
    for name, definition in template.get("Parameters", {}).items():
        raw = supplied.get(name, definition.get("Default"))
        if raw is None:
            raise KeyError(f"parameter {name} has no default: add a value to TEST_PARAMETERS")
        raw = str(raw)
        if definition["Type"] == "CommaDelimitedList":
            values[name] = [part.strip() for part in raw.split(",")] if raw else []
        else:
            values[name] = raw
    return values


class IntrinsicResolver:
    """Resolve the intrinsic functions that template.yaml uses into strings and lists.

    A reference to a resource becomes a readable token, "<LogicalId>" for Ref and "<LogicalId.Attribute>"
    for Fn::GetAtt, so that tests can compare policies and patterns as plain values.
    """

    def __init__(self, template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> None:
        self._parameters = parameter_values(template, overrides)
        self._mappings = template.get("Mappings", {})
        self._resources = set(template.get("Resources", {}))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, argument)
        return {key: self.resolve(value) for key, value in node.items()}

    def _ref(self, name: str) -> Any:
        if name in self._parameters:
            return copy.deepcopy(self._parameters[name])
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._resources:
            return f"<{name}>"
        raise KeyError(f"Ref to unknown name {name!r}")

    def _get_att(self, argument: Any) -> str:
        if isinstance(argument, str):
            logical_id, attribute = argument.split(".", 1)
        else:
            logical_id, attribute = self.resolve(argument)
        if logical_id not in self._resources:
            raise KeyError(f"Fn::GetAtt on unknown resource {logical_id!r}")
        return f"<{logical_id}.{attribute}>"

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], {name: self.resolve(value) for name, value in argument[1].items()}
        return _substitute(text, variables, self)

    def _join(self, argument: Any) -> str:
        delimiter, values = argument
        if not isinstance(delimiter, str):
            raise TypeError("an Fn::Join delimiter must be a literal string")
        return delimiter.join(str(item) for item in self.resolve(values))

    def _split(self, argument: Any) -> list[str]:
        delimiter, value = argument
        return str(self.resolve(value)).split(delimiter)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = (self.resolve(item) for item in argument)
        return self._mappings[map_name][str(top_key)][second_key]

    def _select(self, argument: Any) -> Any:
        index, values = argument
        return self.resolve(values)[int(self.resolve(index))]


def _substitute(text: str, variables: Mapping[str, Any], resolver: IntrinsicResolver) -> str:
    """Expand ${Name} and ${Resource.Attribute} in an Fn::Sub string, and turn ${!Literal} into ${Literal}."""
    output: list[str] = []
    position = 0
    while True:
        start = text.find("${", position)
        if start < 0:
            output.append(text[position:])
            return "".join(output)
        end = text.index("}", start)
        output.append(text[position:start])
        name = text[start + 2 : end]
        if name.startswith("!"):
            output.append("${" + name[1:] + "}")
        elif name in variables:
            output.append(str(variables[name]))
        elif "." in name:
            output.append(resolver._get_att(name))
        else:
            output.append(str(resolver._ref(name)))
        position = end + 1


_INTRINSICS = {
    "Ref": IntrinsicResolver._ref,
    "Fn::GetAtt": IntrinsicResolver._get_att,
    "Fn::Sub": IntrinsicResolver._sub,
    "Fn::Join": IntrinsicResolver._join,
    "Fn::Split": IntrinsicResolver._split,
    "Fn::FindInMap": IntrinsicResolver._find_in_map,
    "Fn::Select": IntrinsicResolver._select,
}


# --- IAM ------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _flatten(values: list[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def role_logical_id(resource: Mapping[str, Any]) -> str:
    """Return the logical ID of the IAM role that a function or a schedule target refers to."""
    properties = resource["Properties"]
    role = properties["Role"] if "Role" in properties else properties["Target"]["RoleArn"]
    logical_id, attribute = role["Fn::GetAtt"]
    if attribute != "Arn":
        raise ValueError(f"role reference {role} does not use the Arn attribute")
    return logical_id


def role_policy_documents(
    template: Mapping[str, Any], role_id: str
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Return the role's policy documents (inline and customer managed in this template).

    The second item lists the ManagedPolicyArns entries that are not policies of this template,
    such as AWS managed policies, whose statements the template does not show.
    """
    resources = template["Resources"]
    properties = resources[role_id]["Properties"]
    documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    outside: list[Any] = []
    for arn in properties.get("ManagedPolicyArns", []):
        if (
            isinstance(arn, dict)
            and "Ref" in arn
            and resources.get(arn["Ref"], {}).get("Type") == "AWS::IAM::ManagedPolicy"
        ):
            documents.append(resources[arn["Ref"]]["Properties"]["PolicyDocument"])
        else:
            outside.append(arn)
    return documents, outside


def allowed_permissions(template: Mapping[str, Any], role_id: str) -> dict[str, set[str]]:
    """Return {action: {resource, ...}} for every Allow statement of the role, intrinsics resolved.

    Raises ValueError for statements this summary cannot represent (Deny, NotAction, NotResource,
    conditions) so that a test never passes on a policy it did not read.
    """
    resolver = IntrinsicResolver(template)
    documents, _ = role_policy_documents(template, role_id)
    permissions: dict[str, set[str]] = {}
    for document in documents:
        for statement in _as_list(document["Statement"]):
            unsupported = {"NotAction", "NotResource", "Condition", "Principal"} & statement.keys()
            if statement.get("Effect") != "Allow" or unsupported:
                raise ValueError(
                    f"unsupported policy statement (only plain Allow statements are summarised): {statement}"
                )
            resources = [str(item) for item in _flatten(_as_list(resolver.resolve(statement["Resource"])))]
            for action in _as_list(statement["Action"]):
                permissions.setdefault(action, set()).update(resources)
    return permissions


# --- Events ---------------------------------------------------------------------------------------


def load_event(name: str) -> dict[str, Any]:
    """Load one of the canonical events in events/ by file name."""
    with (EVENTS_DIR / name).open(encoding="utf-8") as file:
        return json.load(file)


def event_file_names() -> list[str]:
    return sorted(path.name for path in EVENTS_DIR.glob("*.json"))


def is_eventbridge_event(event: Mapping[str, Any]) -> bool:
    """Tell whether an event file contains an EventBridge event (as opposed to SQS or schedule input)."""
    return {"source", "detail-type", "detail"} <= event.keys()


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Match an EventBridge event pattern that uses exact values, arrays of values and nested objects.

    Follows "Amazon EventBridge event patterns" in the EventBridge User Guide. Every field in the
    pattern must match. An array in the pattern matches when the event's value equals any of its
    values, and when the event's value is an array, when one of its elements does. The only content
    filter supported is `{"prefix": "..."}` on strings; the others (anything-but, numeric, exists, ...)
    raise NotImplementedError.
    """
    for field, expected in pattern.items():
        if field not in event:
            return False
        actual = event[field]
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not pattern_matches(expected, actual):
                return False
            continue
        if not isinstance(expected, list):
            raise ValueError(
                f"invalid pattern field {field!r}: expected an array or an object, got {expected!r}"
            )
        for value in expected:
            if isinstance(value, dict) and set(value) != {"prefix"}:
                raise NotImplementedError(f"content filter {value!r} in field {field!r}")
        candidates = actual if isinstance(actual, list) else [actual]
        if not any(
            _value_matches(value, candidate)
            for candidate in candidates
            if not isinstance(candidate, (dict, list))
            for value in expected
        ):
            return False
    return True


def _value_matches(value: Any, candidate: Any) -> bool:
    if isinstance(value, dict):
        return isinstance(candidate, str) and candidate.startswith(value["prefix"])
    return candidate == value
