"""Running many jobs: a job list (CSV or JSON) on Ray, or the app's export queue in-process.

rows.py reads job lists, records.py decides what is already done, execute.py runs one row with the
same core jobs as the CLI (core.commands), plan.py orders rows per project, report.py writes the
report, on_ray.py spreads rows over Ray (ray_session.py starts or joins it, ray_output.py keeps its
output in the report folder, storage.py checks a cluster shares the folders), in_process.py runs
rows without Ray, queue.py is the Dub page's export queue, bench*.py measure it all.
"""

from core.batch.execute import Outcome, execute_job
from core.batch.rows import BatchRow, read_rows

__all__ = ["BatchRow", "Outcome", "execute_job", "read_rows"]
