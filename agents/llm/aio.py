"""Event-loop helpers of the LLM client: cancel a batch on its first error, run a batch from
sync code (also from inside a running loop)."""

from __future__ import annotations

import asyncio
import concurrent.futures


async def gather_or_cancel(coroutines: list) -> list:
    """`asyncio.gather`, but the first exception cancels the other requests (a refused key
    must not go on sending the rest of the batch) and is raised once they have stopped."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def run_sync(coroutine):
    """`asyncio.run(coroutine)`, in a worker thread when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # Called from inside a loop (a notebook, a LangGraph sync node in async code): use a thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
