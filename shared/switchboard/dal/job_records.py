"""What the worker writes, as one object: the job state machine (dal/job_state.py), consent and
suppression (dal/consents.py), the delivery merge (dal/deliveries.py), and through the commit the
contact roll-up and drafts (dal/contacts.py). Each part is usable alone (the sender needs consents only).
"""

from __future__ import annotations

from switchboard.dal.consents import Consents
from switchboard.dal.deliveries import Deliveries
from switchboard.dal.job_state import JobStates, scan_job_states

__all__ = ["JobRecords", "scan_job_states"]


class JobRecords(JobStates, Consents, Deliveries):
    """Satisfies services.worker.Records: every call on the one events table, each through Table.call."""
