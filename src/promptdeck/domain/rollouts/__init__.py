"""Guarded rollouts (issue 24; docs/rollouts.md): a label moving by steps from its baseline
version to a candidate, each caller's key sticking to one arm, a guard comparing the arms'
outcomes as they arrive. Pure: no SQL, no HTTP, no clock of its own.

- ``assign``: a key's bucket and arm (hashlib only: the client imports it to assign locally);
- ``plan``: the rollout plan, parsed and validated (every refusal names its field);
- ``state``: the rollout's status and the transitions between them;
- ``guard``: the anytime-valid comparison of the arms (a confidence sequence on sums);
- ``decide``: given the state and the arms' sums, wait, advance, complete or roll back.

This module imports none of them, so importing ``assign`` costs no scipy.
"""
