"""A space's chunks on a Dask cluster (the `distributed` extra): each worker builds the space's tables once (from
the space and the device's name, which every task carries), each chunk runs where Dask places it, and the partial
results merge as they arrive (merging is order-free: the same result as one machine's). Nothing here schedules,
retries or moves data: Dask does."""

from __future__ import annotations

import pickle

from mobcost.errors import MobcostError
from mobcost.space.run import Chunk, Job, Partial, run_chunk
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


def _run(chunk: Chunk, space: Space, device: str | None, job: Job) -> Partial:
    key = pickle.dumps((space, device))
    if key not in _BUILT:
        from mobcost.latency.device import device as find_device

        _BUILT.clear()
        _BUILT[key] = build(space, find_device(device) if device else None)
    return run_chunk(_BUILT[key], job, chunk)


def map_chunks(dask_client, tables: Tables, job: Job, work: list[Chunk]) -> Partial:
    """Every chunk on the cluster, merged as they complete."""
    from dask.distributed import as_completed

    device = tables.device.name if tables.device is not None else None
    total = Partial()
    for future in as_completed(dask_client.map(_run, work, space=tables.space, device=device, job=job, pure=False)):
        total.merge(future.result())
    return total
