"""Garbage-collector settings for the two hot paths of scoring.

Python's cyclic collector runs whenever enough container objects have been
allocated, and a full collection walks every object in the process (pandas
frames, the SDK's modules, the rendered prompts). Scoring allocates many
short-lived containers per call (the SDK's request and response objects, the
parsed JSON of an answer with its logprobs), so with the default settings a
run at concurrency 64 spent about 7 % of its CPU in the collector, half of it
in two full collections (measured with ``gc.callbacks``, see bench/README.md).
"""

from __future__ import annotations

import contextlib
import gc

YOUNG_THRESHOLD = 10_000  # allocations between collections of the youngest generation (default 700)
_depth = 0  # nested or concurrent runs in one process: only the outermost one changes the settings


@contextlib.contextmanager
def no_gc():
    """Pause the cyclic garbage collector while building many acyclic objects."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@contextlib.contextmanager
def fewer_collections(young: int = YOUNG_THRESHOLD):
    """While requests are in flight: collect less often, and skip the objects that existed before.

    ``gc.freeze()`` moves every object alive now out of the collector's sight
    until ``gc.unfreeze()`` at the end, so collections during the run only walk
    what the run allocates; the youngest generation is collected every
    ``young`` allocations instead of 700. Cycles are still collected, a little
    later: memory grows by at most a few thousand small objects. The previous
    settings come back when the block ends, also on error.
    """
    global _depth
    _depth += 1
    if _depth > 1:
        try:
            yield
        finally:
            _depth -= 1
        return
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()
        _depth -= 1


def settle_process(young: int = YOUNG_THRESHOLD) -> None:
    """The same for a helper process once it is set up, for the rest of its life
    (it is ours: nothing else runs in it)."""
    gc.freeze()
    gc.set_threshold(young, *gc.get_threshold()[1:])
