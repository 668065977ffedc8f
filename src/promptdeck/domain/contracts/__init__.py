"""Contracts: what a version promises its callers (issue 23; docs/contracts.md).

Pure: no I/O. ``jsonschema-rs`` is imported only when a schema is checked or compiled.
"""

from promptdeck.domain.contracts.check import check_variables
from promptdeck.domain.contracts.diff import ContractChange, diff_contracts
from promptdeck.domain.contracts.model import (
    Contract,
    canonical_json,
    check_contract,
    check_template,
    infer_variables,
    with_inferred,
)

__all__ = [
    "Contract",
    "ContractChange",
    "canonical_json",
    "check_contract",
    "check_template",
    "check_variables",
    "diff_contracts",
    "infer_variables",
    "with_inferred",
]
