"""Operator commands for a running OMS, local or deployed: `python -m cli --help`."""
