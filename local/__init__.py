"""The local runtime: the blueprint's API, functions and workflow on one machine, with moto as AWS.

`python -m local` starts it (see local/__main__.py); tests use `local.runtime.LocalOMS`.
"""

import os

from blueprint import COMMON_ENVIRONMENT

# On Lambda every function's environment holds these before its code is imported; here the shared
# modules (and Powertools' Logger, which reads its service name once) may be imported before the
# runtime sets the per-function environment, so they are set first.
for _name, _value in COMMON_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)
