"""``Evaluations``: the table of contents of issue 25's operations (test sets, evaluations,
gates, model providers), as ``Registry`` is for prompts and ``Webhooks`` for hooks. Each
method opens one transaction on the registry's ``Database`` and calls one operation in
``core/test_sets.py``, ``core/evaluations.py``, ``core/gates.py`` or ``core/providers.py``;
the runner's steps are ``core/evaluation_work.py``."""

from __future__ import annotations

from collections.abc import Sequence

from promptdeck.core import evaluations, gates, providers, test_sets
from promptdeck.core.evaluation_work import EvaluationWork
from promptdeck.core.tx import Database
from promptdeck.domain import outgoing
from promptdeck.domain.caller import Caller
from promptdeck.domain.evaluations import Evaluation, Item, Report, StartEvaluation
from promptdeck.domain.gates import Gate, GateCheck
from promptdeck.domain.models import Page
from promptdeck.domain.outgoing import Allowance
from promptdeck.domain.providers import ProviderConfig, Secret, StoredProvider
from promptdeck.domain.refs import PromptRef
from promptdeck.domain.sealing import NO_KEYS, Keyring
from promptdeck.domain.test_sets import Case, CaseSet, StoredCase
from promptdeck.errors import InvalidInput

ReportOutcome = evaluations.ReportOutcome


class Evaluations:
    """Test sets, evaluations, gates and providers over one database."""

    def __init__(
        self,
        db: Database,
        allowance: Allowance = outgoing.NOTHING,
        keyring: Keyring = NO_KEYS,
    ) -> None:
        self.db = db
        self.allowance = allowance
        self.keyring = keyring  # seals the provider keys that are stored
        self.work = EvaluationWork(db)

    # --- providers (admin) -------------------------------------------------------------------

    def add_provider(
        self, config: ProviderConfig, caller: Caller, key: Secret | None = None
    ) -> StoredProvider:
        """A provider; ``key``: its key, stored sealed (or ``config.api_key_env``, or none)."""
        sealed = self._seal(config, key)
        with self.db.writing(caller) as tx:
            return providers.create(tx, config, sealed)

    def replace_provider(
        self,
        config: ProviderConfig,
        caller: Caller,
        key: Secret | None = None,
        *,
        keep_key: bool = False,
    ) -> StoredProvider:
        """The provider's new configuration; its key ``key`` (stored sealed), the variable
        ``config.api_key_env``, none, or with ``keep_key`` the one it has."""
        sealed = self._seal(config, None if keep_key else key)
        with self.db.writing(caller) as tx:
            return providers.replace(tx, config, sealed, keep_key=keep_key)

    def _seal(self, config: ProviderConfig, key: Secret | None) -> str | None:
        providers.check(config, self.allowance)
        if key is None:
            return None
        if config.api_key_env is not None:
            raise InvalidInput("give api_key or api_key_env, not both", field="api_key")
        return self.keyring.seal(key)

    def list_providers(self, caller: Caller) -> list[StoredProvider]:
        with self.db.reading(caller) as tx:
            return providers.listing(tx)

    def get_provider(self, name: str, caller: Caller) -> StoredProvider:
        with self.db.reading(caller) as tx:
            return providers.get(tx, name)

    def remove_provider(self, name: str, caller: Caller) -> None:
        with self.db.writing(caller) as tx:
            providers.delete(tx, name)

    # --- test sets ---------------------------------------------------------------------------

    def create_test_set(
        self,
        name: str,
        prompt: str,
        cases: Sequence[Case],
        caller: Caller,
        *,
        description: str = "",
        version_description: str = "",
    ) -> CaseSet:
        with self.db.writing(caller) as tx:
            return test_sets.create(
                tx,
                name,
                PromptRef.parse(prompt),
                cases,
                description=description,
                version_description=version_description,
            )

    def add_cases(
        self, name: str, cases: Sequence[Case], caller: Caller, *, description: str = ""
    ) -> CaseSet:
        """The set's next version: its cases and these."""
        with self.db.writing(caller) as tx:
            return test_sets.add(tx, name, cases, description=description)

    def get_test_set(self, name: str, caller: Caller) -> CaseSet:
        with self.db.reading(caller) as tx:
            return test_sets.get(tx, name)

    def list_test_sets(
        self,
        caller: Caller,
        *,
        prompt: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[CaseSet]:
        ref = PromptRef.parse(prompt) if prompt is not None else None
        with self.db.reading(caller) as tx:
            return test_sets.page(tx, prompt=ref, limit=limit, cursor=cursor)

    def list_cases(
        self,
        name: str,
        caller: Caller,
        *,
        version: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[StoredCase]:
        with self.db.reading(caller) as tx:
            return test_sets.cases(tx, name, version=version, limit=limit, cursor=cursor)

    # --- evaluations -------------------------------------------------------------------------

    def start_evaluation(self, cmd: StartEvaluation, caller: Caller) -> Evaluation:
        """A queued evaluation with its items; the runners of the server's processes take it."""
        evaluations.check_versions(cmd.version_ids)  # checked whole before the transaction
        evaluations.build(cmd.evaluators)
        with self.db.writing(caller) as tx:
            return evaluations.create(tx, cmd)

    def get_evaluation(self, evaluation_id: int, caller: Caller) -> Evaluation:
        with self.db.reading(caller) as tx:
            return evaluations.get(tx, evaluation_id)

    def list_evaluations(
        self,
        prompt: str,
        caller: Caller,
        *,
        limit: int = 50,
        cursor: str | None = None,
        status: str | None = None,
    ) -> Page[Evaluation]:
        with self.db.reading(caller) as tx:
            return evaluations.page(
                tx, PromptRef.parse(prompt), limit=limit, cursor=cursor, status=status
            )

    def list_items(
        self,
        evaluation_id: int,
        caller: Caller,
        *,
        limit: int = 50,
        cursor: str | None = None,
        version_id: int | None = None,
        status: str | None = None,
        awaiting: bool = False,
    ) -> Page[Item]:
        with self.db.reading(caller) as tx:
            return evaluations.items(
                tx,
                evaluation_id,
                limit=limit,
                cursor=cursor,
                version_id=version_id,
                status=status,
                awaiting=awaiting,
            )

    def cancel_evaluation(self, evaluation_id: int, caller: Caller) -> Evaluation:
        with self.db.writing(caller) as tx:
            return evaluations.cancel(tx, evaluation_id)

    def report_results(
        self, evaluation_id: int, reports: Sequence[Report], caller: Caller
    ) -> ReportOutcome:
        """Record the caller's results; the report that completes the evaluation concludes it
        (a second, short transaction, as the runner does)."""
        with self.db.writing(caller) as tx:
            done = evaluations.report(tx, evaluation_id, reports)
        if done.whole:
            self.work.conclude(evaluation_id)
        return done

    # --- gates ---------------------------------------------------------------------------------

    def set_gate(
        self,
        prompt: str,
        label: str,
        test_set: str,
        thresholds: dict[str, float],
        caller: Caller,
    ) -> Gate:
        with self.db.writing(caller) as tx:
            return gates.set_gate(tx, PromptRef.parse(prompt), label, test_set, thresholds)

    def remove_gate(self, prompt: str, label: str, caller: Caller) -> None:
        with self.db.writing(caller) as tx:
            gates.remove_gate(tx, PromptRef.parse(prompt), label)

    def get_gate(self, prompt: str, label: str, caller: Caller) -> Gate:
        with self.db.reading(caller) as tx:
            return gates.get_gate(tx, PromptRef.parse(prompt), label)

    def list_gates(self, prompt: str, caller: Caller) -> list[Gate]:
        with self.db.reading(caller) as tx:
            return gates.gates(tx, PromptRef.parse(prompt))

    def check_gate(self, prompt: str, label: str, version_id: int, caller: Caller) -> GateCheck:
        """Whether the version may go to the label now (what a deploy request would meet)."""
        with self.db.reading(caller) as tx:
            return gates.check(tx, PromptRef.parse(prompt), label, version_id)
