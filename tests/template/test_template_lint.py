"""cfn-lint on template.yaml, through its Python API so that it runs offline like the other tests."""

from __future__ import annotations

from cfn_template import REGION, TEMPLATE_PATH
from cfnlint.api import ManualArgs, lint_file


def test_cfn_lint_reports_nothing():
    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(regions=[REGION]))

    # Errors (E) and warnings (W) both fail the test. Informational matches (I) are off by default.
    assert [f"{match.rule.id} line {match.linenumber}: {match.message}" for match in matches] == []
