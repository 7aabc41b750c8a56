"""Two (or more) editors saving the same map at once: exactly one wins per base, nothing lost.

Each editor is a thread with its own session and connection, released together by a
barrier, so the saves really race in the database.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from journeylens.model.journey import JourneyMap
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.store.errors import Conflict, StaleVersion


def _setup(engine: Engine) -> tuple[int, list[str]]:
    with session_scope(engine) as s:
        owner = service.create_user(s, "olive@acme.test", "Olive", "owner-pass-1")
        ws = service.create_workspace(s, "acme", "Acme", owner)
        snap = service.create_map(s, ws, owner, template="three-phase", map_id="m")
        return owner.id, [step.id for _, step in snap.journey.iter_steps()]


def _rename_step(journey: JourneyMap, step_id: str, name: str) -> JourneyMap:
    data = journey.model_dump(by_alias=True)
    for stage in data["stages"]:
        for step in stage["steps"]:
            if step["id"] == step_id:
                step["name"] = name
    return JourneyMap.model_validate(data)


def _race(engine: Engine, workers: int, work: object) -> list[object]:
    barrier = threading.Barrier(workers)
    results: list[object] = [None] * workers

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)  # type: ignore[operator]
        except Exception as exc:  # recorded and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_concurrent_saves_from_one_base_exactly_one_wins(engine: Engine) -> None:
    owner_id, steps = _setup(engine)
    with session_scope(engine) as s:
        base = service.get_map(s, service.get_workspace(s, "acme"), "m").journey

    def save(i: int) -> int:
        with session_scope(engine) as s:
            ws = service.get_workspace(s, "acme")
            edited = _rename_step(base, steps[i], f"editor {i}")
            snap = service.save_map(s, ws, edited, service.get_user(s, owner_id), 1, f"by {i}")
            return snap.version

    results = _race(engine, 4, save)
    wins = [r for r in results if r == 2]
    stale = [r for r in results if isinstance(r, StaleVersion)]
    assert (len(wins), len(stale)) == (1, 3), results
    assert all((e.base_version, e.current_version) == (1, 2) for e in stale)
    # The loser is told exactly what the winner changed.
    winner = next(i for i, r in enumerate(results) if r == 2)
    for e in stale:
        assert e.diff is not None
        assert [c.id for c in e.diff.changes] == [steps[winner]]
    with session_scope(engine) as s:
        ws = service.get_workspace(s, "acme")
        assert [h.number for h in service.map_history(s, ws, "m")] == [2, 1]
        current = service.get_map(s, ws, "m").journey
        names = {step.id: step.name for _, step in current.iter_steps()}
        assert names[steps[winner]] == f"editor {winner}"


def test_editors_who_rebase_on_conflict_lose_no_edit(engine: Engine) -> None:
    owner_id, steps = _setup(engine)

    def edit_until_saved(i: int) -> int:
        conflicts = 0
        while True:
            with session_scope(engine) as s:
                ws = service.get_workspace(s, "acme")
                current = service.get_map(s, ws, "m")
                edited = _rename_step(current.journey, steps[i], f"editor {i}")
                try:
                    service.save_map(s, ws, edited, service.get_user(s, owner_id), current.version)
                    return conflicts
                except StaleVersion:
                    conflicts += 1

    results = _race(engine, 4, edit_until_saved)
    assert all(isinstance(r, int) for r in results), results
    with session_scope(engine) as s:
        ws = service.get_workspace(s, "acme")
        current = service.get_map(s, ws, "m")
        assert current.version == 5  # one new version per editor, none overwritten
        names = {step.id: step.name for _, step in current.journey.iter_steps()}
        assert [names[steps[i]] for i in range(4)] == [f"editor {i}" for i in range(4)]
        assert len(service.map_history(s, ws, "m")) == 5


def test_racing_creates_of_one_map_id_give_one_map_and_conflicts(engine: Engine) -> None:
    owner_id, _ = _setup(engine)

    def create(i: int) -> str:
        with session_scope(engine) as s:
            ws = service.get_workspace(s, "acme")
            owner = service.get_user(s, owner_id)
            return service.create_map(s, ws, owner, template="aida", map_id="same").map_id

    results = _race(engine, 3, create)
    assert results.count("same") == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 2, results
    with session_scope(engine) as s:
        ws = service.get_workspace(s, "acme")
        assert [m.map_id for m in service.list_maps(s, ws)].count("same") == 1
