"""Prefect flows: the pipeline's steps, each a call into extractors/, stories/,
warehouse/ or digest/. Import a flow from its module (`newswatch.flows.poll`):
nothing is re-exported here.
"""

from newswatch.memory import return_freed_memory
from newswatch.prefect_env import quiet_prefect

# Process-wide set-up for any flow run, the command line's or a worker's: Prefect's
# logging quieted, and freed memory returned to the system before Prefect starts
# its threads (they take allocator arenas).
quiet_prefect()
return_freed_memory()
