"""A space's chunks on a Dask cluster (the `distributed` extra): each worker builds the space's tables once (from
the space and the device, which every task carries), each chunk runs where Dask places it, and the partial
results merge as they arrive (merging is order-free: the same result as one machine's). Nothing here schedules,
retries or moves data: Dask does."""

from __future__ import annotations

import pickle

from mobcost.errors import MobcostError
from mobcost.space.run import CHUNK, Job, Partial, chunks, run_chunk
from mobcost.space.spec import Space
from mobcost.space.tables import Tables, build


def client(address: str):
    """A dask.distributed Client: `local` starts a cluster of worker processes on this machine (closed with the
    client), anything else is a scheduler's address (tcp://host:8786)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise MobcostError("--dask needs dask.distributed: pip install 'mobcost[distributed]'") from None
    if address == "local":
        return Client(threads_per_worker=1, dashboard_address=None)
    return Client(address)


_BUILT: dict = {}  # on a worker: (space, device) → its tables, built by the first chunk that needs them


MAX_TASKS = 10_000  # tasks one run gives the scheduler: a task runs consecutive chunks, merged on the worker


def _run(numbers: tuple[int, int], total: int, seed: int | None, space: Space, device, job: Job) -> Partial:
    key = pickle.dumps((space, device))
    if key not in _BUILT:
        _BUILT.clear()
        _BUILT[key] = build(space, device)
    merged = Partial()
    for part in chunks(total, seed, *numbers):
        merged.merge(run_chunk(_BUILT[key], job, part))
    return merged


def map_chunks(dask_client, tables: Tables, job: Job, total: int, seed: int | None) -> Partial:
    """Every chunk of `total` members on the cluster, in at most MAX_TASKS tasks of consecutive chunks (each a
    range of chunk numbers, made on the worker), merged as they complete."""
    from dask.distributed import as_completed

    count = -(-total // CHUNK)
    per = -(-count // MAX_TASKS)
    tasks = [(first, min(first + per, count)) for first in range(0, count, per)]
    merged = Partial()
    for future in as_completed(dask_client.map(_run, tasks, total=total, seed=seed, space=tables.space,
                                               device=tables.device, job=job, pure=False)):
        merged.merge(future.result())
    return merged
