"""Operator tooling (CLI, local stack). Never imported by a Lambda function at run time."""
