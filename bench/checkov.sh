#!/usr/bin/env bash
# Scan template.yaml and its SAM-transformed form with checkov, offline.
#
# checkov pins its own boto3 and botocore, so it gets a virtual environment of its own under
# .bench/ (git-ignored). The SAM transform runs in the project's environment with
# aws-sam-translator, as tests/template/cfn_template.py does, and writes
# .bench/checkov/transformed.json. Each skipped check has its reason in the resource's
# Metadata.checkov.skip in template.yaml, which checkov reads on the SAM template; the script
# copies those skips onto the transformed resources so both scans apply the same reasons.
#
#   bash bench/checkov.sh            # exit status 0 only when no check fails
#
# Environment: PYTHON (the project's interpreter, default python3), CHECKOV_VERSION (default: latest).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
WORK=.bench/checkov
VENV="$WORK/venv"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/checkov" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "checkov${CHECKOV_VERSION:+==$CHECKOV_VERSION}"
fi

"$PYTHON" - "$WORK/transformed.json" <<'PY'
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path("tests/template").resolve()))
from cfn_template import load_template, transform_template  # noqa: E402

source = load_template()
transformed = transform_template()
# The transform drops the Metadata of serverless resources: copy each skip list to the resources
# made from it (the function's role gets the function's skips that name IAM checks).
for logical_id, resource in source["Resources"].items():
    skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    if not skips:
        continue
    for target_id, target in transformed["Resources"].items():
        if target_id == logical_id or (target_id.startswith(logical_id) and target_id != logical_id):
            metadata = target.setdefault("Metadata", {}).setdefault("checkov", {})
            metadata.setdefault("skip", [])
            metadata["skip"] += [skip for skip in skips if skip not in metadata["skip"]]
Path(sys.argv[1]).write_text(json.dumps(transformed, indent=1), encoding="utf-8")
PY

export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
status=0
for file in template.yaml "$WORK/transformed.json"; do
    echo "== checkov on $file"
    "$VENV/bin/checkov" --quiet --compact --framework cloudformation --skip-download --file "$file" || status=$?
done
"$VENV/bin/checkov" --version | sed 's/^/checkov version: /'
exit "$status"
