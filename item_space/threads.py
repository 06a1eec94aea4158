"""torch's intra-op thread count, set for one block and restored after.

The count is process-wide: a component that sets it and leaves it changes every later
torch call in the process (MiniLM's embedder left 2 threads mid-episode, which made a
served policy's beam search 13x costlier in CPU on a loaded 2-core machine). The one
helper here is what the embedder, the learned user's fit and served policies use.
torch is imported inside, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with `count` torch threads (None: leave the count alone), then restore."""
    if not count:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if previous != count:
            torch.set_num_threads(previous)
