"""The cold-start section of the report (`benchmarks/cold_start.py` measures it), and how to put it
alone into a report written before (`splice`), for `python -m benchmarks --only cold-start`."""

from __future__ import annotations

import re

from benchmarks.cold_start import GOAL_RATIO, ColdStartResult, FunctionColdStart, Package, Profile
from benchmarks.report import Environment, table
from blueprint import FUNCTIONS, WORKFLOWS, api_functions

TITLE = "## 9. Cold starts: each handler's import against `import boto3`"
SECTION_START = re.compile(r"^## (9\. )?Cold starts\b", re.MULTILINE)
NEXT_SECTION = "## What this does not measure"
PROFILE_GROUPS = 12

INTRO = """Goal (issue 13): every function's handler module imports in at most {goal:.1f} times the time of
`import boto3`, both in fresh interpreters in the same run. **Worst: {worst} at {ratio:.2f}x: {met}.**

Each import runs in a fresh interpreter (`python -S -c`), timed with `time.perf_counter` inside it
(the handler module imported and its `lambda_handler` read, as the runtime does), with the
environment Lambda gives that function and nothing of the shell's: the stack's variables for it (the
blueprint's settings, its tables', queues' and workflows' names, `POWERTOOLS_SERVICE_NAME` and
`POWERTOOLS_METRICS_NAMESPACE`) and the runtime's (`LAMBDA_TASK_ROOT`, `AWS_LAMBDA_FUNCTION_NAME`,
region, credentials, the X-Ray daemon of active tracing). It can import only what Lambda has: a copy
of the code asset as its task root (no bytecode: the stack's asset excludes it, and the task root is
read-only, so every cold start compiles the OMS's own modules, which these figures include), the
Powertools layer's distributions and the runtime's boto3 (from this virtualenv, with bytecode, as
the layer and the runtime ship). {rounds} rounds; in each, for every function, `import boto3` then
the handler's import, in that function's environment. Figures are medians over the rounds; a
function's ratio is the median of its rounds' ratios (its import over the boto3 import just before
it), and the CPU ratio is the same of the children's CPU times, less disturbed by other work on the
machine. "Ratio with bytecode" is a third import in each round, from a task root holding the asset's
modules compiled, which the stack does not ship: the difference is what compiling costs. Measured
{generated_at} by `{command}` in {seconds:.0f} s (load average {load:.2f} when it started: the
machine is shared, and the figures move with it). This machine is not Lambda: the ratios, not the
milliseconds, are the figures to compare."""

PACKAGE = """Every function gets the same package (`infra/constructs/functions.py`): one code asset,
`Code.from_asset` of the repository root keeping only `functions/` and `shared/` (no `__pycache__`,
no `*.pyc`), and the public Powertools layer (`aws-lambda-powertools[all]` {version}, without boto3
and its dependencies, which the runtime has). The asset was counted file by file as the import
sandbox holds it: **{asset_files} files, {asset_bytes:,} bytes** ({geodata:,} of them the geocoding
data in `shared/geodata/`). The layer cannot be downloaded here: the same distributions installed in
this virtualenv hold **{layer_bytes:,} bytes** ({counted}); the layer also holds {missing}, not
installed here and not counted, and its compiled extensions are built for arm64 and stripped, so its
real size differs. The runtime's boto3 is not part of the package."""

PROFILE_INTRO = """Where the worst function's import spends its time (`-X importtime`, one import, each
module's own time without what it imported, summed per group; the OMS's own modules include their
compilation):"""


def section(result: ColdStartResult, environment: Environment, powertools_version: str) -> str:
    worst = result.worst()
    goal = result.goal()
    intro = INTRO.format(
        goal=GOAL_RATIO,
        worst=worst.name,
        ratio=worst.ratio,
        met="met" if goal.met else "not met",
        rounds=result.rounds,
        generated_at=environment.generated_at,
        command=environment.command,
        seconds=result.seconds,
        load=environment.load_average,
    )
    parts = [TITLE, intro, _functions(result.functions), _package(result.package, powertools_version)]
    if result.profile is not None:
        parts += [PROFILE_INTRO, _profile(result.profile)]
    return "\n\n".join(parts)


def function_kind(name: str) -> str:
    spec = FUNCTIONS[name]
    steps = {function for w in WORKFLOWS.values() for function in w.function_arns.values()}
    if name in {f.name for f in api_functions()}:
        return "API"
    if name in steps:
        return "workflow step"
    if spec.queue_source is not None:
        return "queue consumer"
    if spec.stream_source is not None:
        return "stream consumer"
    return "API authorizer" if name == "ApiAuthorizer" else "other"


def _functions(functions: tuple[FunctionColdStart, ...]) -> str:
    header = (
        "function",
        "kind",
        "import (ms)",
        "import boto3 (ms)",
        "ratio",
        "CPU ratio",
        "ratio with bytecode",
        "modules loaded",
        "API event handler loaded",
        f"at most {GOAL_RATIO:.1f}x",
    )
    rows = [
        (
            f.name,
            function_kind(f.name),
            f"{f.import_median:.0f}",
            f"{f.boto3_median:.0f}",
            f"{f.ratio:.2f}",
            f"{f.cpu_ratio:.2f}",
            f"{f.compiled_ratio:.2f}",
            len(f.modules),
            "yes" if f.api_machinery else "no",
            "met" if f.met else "**not met**",
        )
        for f in sorted(functions, key=lambda f: -f.ratio)
    ]
    return table(header, rows)


def _package(package: Package, powertools_version: str) -> str:
    return PACKAGE.format(
        version=powertools_version,
        asset_files=package.asset_files,
        asset_bytes=package.asset_bytes,
        geodata=package.geodata_bytes,
        layer_bytes=package.layer_bytes,
        counted=", ".join(package.layer_distributions),
        missing=", ".join(package.layer_missing) or "nothing else",
    )


def _profile(found: Profile) -> str:
    rows = [(group, f"{ms:.0f}", f"{ms / found.total_ms:.0%}") for group, ms in found.groups[:PROFILE_GROUPS]]
    rest = sum(ms for _, ms in found.groups[PROFILE_GROUPS:])
    rows.append(("everything else", f"{rest:.0f}", f"{rest / found.total_ms:.0%}"))
    rows.append((f"**{found.function}, in all**", f"{found.total_ms:.0f}", "100%"))
    return table(("modules", "own time (ms)", "share"), rows)


def splice(document: str, section_text: str) -> str:
    """`document` with its cold-start section replaced by `section_text` (or the section put before
    "What this does not measure", or at the end, if it has none): the rest is left as it was."""
    section_text = section_text.strip("\n")
    found = SECTION_START.search(document)
    if found:
        start = found.start()
        end = document.find("\n## ", start + 1)
        rest = document[end + 1 :] if end >= 0 else ""
        return document[:start] + section_text + ("\n\n" + rest if rest else "\n")
    at = document.find(NEXT_SECTION)
    if at >= 0:
        return document[:at] + section_text + "\n\n" + document[at:]
    return document.rstrip("\n") + "\n\n" + section_text + "\n"
