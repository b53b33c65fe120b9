"""Least privilege, proven locally: each function's rendered IAM policy against the AWS calls it makes."""
