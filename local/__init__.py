"""The local runtime: the blueprint's API, functions and workflow on one machine, with moto as AWS.

`python -m local` starts it (see local/__main__.py); tests use `local.runtime.LocalOMS`.
"""
