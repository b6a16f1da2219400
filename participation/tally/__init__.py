"""The pure tally engine of participatory budgeting: pabulib files in, explained outcomes out.

No database and no HTTP here: the budget-round service loads ballots and calls :func:`tally`; the command
line calls :func:`tally_file`.
"""

from participation.tally.engine import (
    RULES,
    RuleOptions,
    TallyConfigurationError,
    TallyResult,
    rule_from_meta,
    tally,
    tally_file,
)
from participation.tally.explanation import PaymentSummary, ProjectExplanation
from participation.tally.model import Ballot, Instance, Number, Project, VoteType
from participation.tally.pabulib import (
    Election,
    PabulibFormatError,
    dumps_pabulib,
    parse_pabulib,
    parse_pabulib_text,
    write_pabulib,
)
from participation.tally.tie_breaking import DEFAULT_TIE_BREAK, TIE_BREAKS

__all__ = [
    "DEFAULT_TIE_BREAK",
    "RULES",
    "TIE_BREAKS",
    "Ballot",
    "Election",
    "Instance",
    "Number",
    "PabulibFormatError",
    "PaymentSummary",
    "Project",
    "ProjectExplanation",
    "RuleOptions",
    "TallyConfigurationError",
    "TallyResult",
    "VoteType",
    "dumps_pabulib",
    "parse_pabulib",
    "parse_pabulib_text",
    "rule_from_meta",
    "tally",
    "tally_file",
    "write_pabulib",
]
