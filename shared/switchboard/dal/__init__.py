"""Data access: the only package (with providers/) that talks to boto3. AWS failures, service errors and
transport errors alike, become domain errors (dal/failures.py)."""
