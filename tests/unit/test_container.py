"""The per-container builders: one object per container, built again after the one forget."""

from __future__ import annotations

from switchboard.container import forget_per_container, once_per_container


def test_a_builder_runs_once_per_container() -> None:
    # Given a builder that counts its runs
    runs: list[object] = []

    @once_per_container
    def build() -> object:
        runs.append(object())
        return runs[-1]

    # When the handler asks for it on two invocations
    first, second = build(), build()

    # Then both invocations share the one object built on the first
    assert first is second and runs == [first]


def test_forgetting_the_container_builds_again_from_the_current_environment() -> None:
    # Given a builder that has already built its object
    @once_per_container
    def build() -> object:
        return object()

    before = build()

    # When the container is forgotten (what the autouse fixture does around each test)
    forget_per_container()

    # Then the next call builds a new object
    assert build() is not before


def test_every_service_builder_is_forgotten_together() -> None:
    # Given the five service builders the handlers call
    from switchboard.services.health import default_health_check
    from switchboard.services.ingest import default_service
    from switchboard.services.reconcile.wiring import default_reconciler
    from switchboard.services.sender import default_sender
    from switchboard.services.worker import default_worker

    builders = [default_service, default_worker, default_sender, default_health_check, default_reconciler]

    # When the registry that forget_per_container clears is read
    from switchboard import container

    registered = [builder for builder in builders if builder in container._BUILDERS]

    # Then every one of them is in it: no test or bench has to reset a service by hand
    assert registered == builders
