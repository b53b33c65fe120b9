"""Data access: the only package (with providers/) that talks to boto3. ClientErrors become domain errors."""
