"""Cold start: how long each function's handler module takes to import, against `import boto3`.

Every import runs in a fresh interpreter (`sys.executable -c`), timed with `time.perf_counter` inside
that child, with the environment Lambda gives the function: the stack's variables for it (the
blueprint's settings and resource names, `POWERTOOLS_*`) and the runtime's own (`LAMBDA_TASK_ROOT`,
`AWS_LAMBDA_FUNCTION_NAME`, region, credentials, X-Ray daemon), nothing of the dev shell's. The child
imports from a copy of the function's code asset (`functions/` and `shared/`, as the stack packages
them: no bytecode, so the OMS's own modules are compiled at import as on Lambda, whose task root is
read-only), and the dependencies from this virtualenv (with bytecode, as the Powertools layer and the
runtime's boto3 ship). A round runs, for each function, `import boto3` then the handler's import, in
the same environment; the figures are medians over the rounds, and a function's ratio is the median
of its rounds' ratios (the handler's import over the boto3 import run just before it).
The goal (issue 13): every ratio at most 2.0.

Package size: the stack gives every function the same code asset (`infra/constructs/functions.py`:
`Code.from_asset` of the repository root minus everything but `functions/` and `shared/`, without
`__pycache__` or `*.pyc`) and the public Powertools layer (`aws-lambda-powertools[all]`, minus boto3
and its dependencies, which the runtime has). The asset's bytes are counted file by file, exactly;
the layer cannot be downloaded here, so its bytes are estimated from the same distributions installed
in this virtualenv (x86-64, Python here; the layer is arm64 for the stack's runtime, with stripped
extensions), and the distributions of the layer not installed here are named, not counted.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from benchmarks import goals
from blueprint import (
    BUSES,
    COMMON_ENVIRONMENT,
    EMAIL_TEMPLATES,
    FUNCTIONS,
    QUEUES,
    ROOT,
    SECRETS,
    TABLES,
    TRACKING_PAGE_URL_ENV,
    USER_POOLS,
    WORKFLOWS,
)
from blueprint import Function as FunctionSpec

GOAL_RATIO = goals.BY_KEY["handler_import_ratio_worst"].goal  # the goal table's, one figure
ROUNDS = 7
REGION = "us-east-1"
ACCOUNT = "123456789012"
# The stack's runtime (infra/constructs/functions.py RUNTIME), as Lambda names it in AWS_EXECUTION_ENV.
RUNTIME_NAME = "python3.14"
# What the stack packages as every function's code (infra/constructs/functions.py ASSET_FOLDERS and
# ASSET_EXCLUDE; tests/infrastructure/test_cold_start_asset.py checks this against the synthesized asset).
ASSET_FOLDERS = ("functions", "shared")
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".pyd")
EXCLUDED_FOLDER = "__pycache__"
GEODATA_FOLDER = "geodata"
# The Powertools layer: `pip install aws-lambda-powertools[all]`, then boto3 and its dependencies
# removed (the runtime has them); see the layer's build in aws-powertools/powertools-lambda-python.
LAYER_PACKAGE = "aws-lambda-powertools"
LAYER_EXTRA = "all"
LAYER_REMOVES = ("boto3", "botocore", "s3transfer", "python-dateutil", "urllib3", "six", "jmespath")
# The Lambda runtime's own: boto3 and what it needs.
RUNTIME_PACKAGE = "boto3"
# Parts of Powertools only the API functions need: a workflow step or a queue or stream consumer that
# loads them pays for machinery it never runs.
API_ONLY_MODULES = ("aws_lambda_powertools.event_handler",)

# Runs in the child: imports the module (and reads the handler attribute, as the runtime does), then
# reports the time and the modules loaded. `json` and `time` are loaded before the clock starts in
# both the handler's and boto3's runs, as Lambda's bootstrap has them loaded before the handler.
CHILD = """
import json, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
module = __import__(sys.argv[1], fromlist=["_"])
if len(sys.argv) > 2:
    getattr(module, sys.argv[2])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
print(json.dumps({"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "modules": sorted(sys.modules)}))
"""


@dataclass(frozen=True)
class Goal:
    """A figure against its goal, as the goal table and docs/benchmarks.json take it."""

    value: float
    goal: float
    met: bool


@dataclass(frozen=True)
class Import:
    """One child's import: milliseconds (wall; and the child's CPU time, which other work on the machine
    disturbs less) and the names of the modules loaded when it ended."""

    ms: float
    cpu_ms: float
    modules: frozenset[str]


@dataclass(frozen=True)
class FunctionColdStart:
    name: str
    module: str
    import_ms: tuple[float, ...]  # one per round
    boto3_ms: tuple[float, ...]  # the boto3 run paired with each
    import_cpu_ms: tuple[float, ...]
    boto3_cpu_ms: tuple[float, ...]
    # The same import from a task root holding the asset's bytecode (what the stack does not ship).
    compiled_ms: tuple[float, ...]
    modules: frozenset[str]  # loaded by the handler's import (the last round's)

    @property
    def import_median(self) -> float:
        return statistics.median(self.import_ms)

    @property
    def boto3_median(self) -> float:
        return statistics.median(self.boto3_ms)

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios: each handler's import over the boto3 import just before it,
        so a load that changes during the run (the machine is shared) weighs on both sides alike."""
        return statistics.median(h / b for h, b in zip(self.import_ms, self.boto3_ms, strict=True))

    @property
    def compiled_ratio(self) -> float:
        """As `ratio`, had the asset shipped its modules compiled: how much of it is compilation."""
        return statistics.median(c / b for c, b in zip(self.compiled_ms, self.boto3_ms, strict=True))

    @property
    def cpu_ratio(self) -> float:
        """As `ratio`, of CPU times: a cross-check when the machine was busy."""
        return statistics.median(h / b for h, b in zip(self.import_cpu_ms, self.boto3_cpu_ms, strict=True))

    @property
    def met(self) -> bool:
        return self.ratio <= GOAL_RATIO

    @property
    def api_machinery(self) -> bool:
        """Whether the import loaded Powertools' API event handler (its resolver, OpenAPI, validation)."""
        return any(
            name == part or name.startswith(part + ".") for name in self.modules for part in API_ONLY_MODULES
        )


@dataclass(frozen=True)
class Package:
    """What every function's code asset and its layer hold, in bytes."""

    asset_files: int
    asset_bytes: int
    geodata_bytes: int  # of which the geocoding data (shared/geodata/)
    layer_bytes: int  # estimated: see the module's docstring
    layer_distributions: tuple[str, ...]  # counted
    layer_missing: tuple[str, ...]  # in the layer, not installed here: not counted


@dataclass(frozen=True)
class Profile:
    """Where one import of a function's handler spent its time (`-X importtime`, one run): each
    module's own time (without the modules it imported), summed per group of modules."""

    function: str
    total_ms: float
    groups: tuple[tuple[str, float], ...]  # (group, ms), largest first


@dataclass(frozen=True)
class ColdStartResult:
    functions: tuple[FunctionColdStart, ...]
    package: Package
    rounds: int
    seconds: float
    profile: Profile | None = None  # of the worst function

    def worst(self) -> FunctionColdStart:
        return max(self.functions, key=lambda f: f.ratio)

    def goal(self) -> Goal:
        """The worst ratio against the goal (2.0): met when every function is at most that."""
        worst = self.worst().ratio
        return Goal(value=round(worst, 2), goal=GOAL_RATIO, met=worst <= GOAL_RATIO)

    def goal_note(self) -> str:
        """How the goal's figure was reached, in a few words (for the goal table)."""
        worst = self.worst()
        return (
            f"{worst.name}; median of {self.rounds} rounds, fresh interpreters, Lambda's environment, "
            f"the asset's modules compiled at import as on Lambda ({worst.compiled_ratio:.2f} with bytecode)"
        )


# -- the environment Lambda gives a function ---------------------------------------------------------


def resource_values() -> dict[str, str]:
    """A value for every variable the stack fills with a resource's name, ARN or URL (as deployed)."""
    arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
    values = {t.env: f"oms-{t.name}" for t in TABLES.values()}
    values |= {w.env: arn.format("states", f"stateMachine:{w.name}") for w in WORKFLOWS.values()}
    values |= {s.env: arn.format("secretsmanager", f"secret:{s.name}-AbCdEf") for s in SECRETS.values()}
    values |= {b.env: f"oms-{b.name}" for b in BUSES.values()}
    values |= {
        q.env: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/oms-{q.name}" for q in QUEUES.values() if q.env
    }
    values |= {t.env: f"oms-{t.name}" for t in EMAIL_TEMPLATES.values()}
    values[TRACKING_PAGE_URL_ENV] = f"https://abcdef1234.execute-api.{REGION}.amazonaws.com/prod/track"
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_AbCdEfGhI"
    for pool in USER_POOLS.values():
        values |= {pool.issuer_env: issuer, pool.jwks_url_env: f"{issuer}/.well-known/jwks.json"}
        values[pool.client_id_env] = "1example23456789"
    return values


def lambda_environment(spec: FunctionSpec, box: Sandbox) -> dict[str, str]:
    """The function's environment on Lambda: the stack's variables and the runtime's, and no others;
    the import path is the task root, then the layer, then the runtime's boto3."""
    resources = resource_values()
    runtime = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(box.task_root),
        "PYTHONPATH": box.python_path(),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{RUNTIME_NAME}",
        "AWS_LAMBDA_FUNCTION_NAME": f"oms-{spec.name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/oms-{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/03/[$LATEST]0123456789abcdef",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # The role's temporary credentials: present, so nothing looks for others (nothing is called).
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "example-secret-access-key",
        "AWS_SESSION_TOKEN": "example-session-token",
        # Active tracing (the stack's Tracing.ACTIVE).
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        # The task root is read-only on Lambda: nothing compiled is ever kept between cold starts.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    stack = {**COMMON_ENVIRONMENT, **spec.settings}
    stack |= {key: resources[key] for key in spec.environment_keys()}
    return runtime | stack


# -- the package and the sandbox the imports run in ------------------------------------------------


def asset_files(root: Path = ROOT) -> list[Path]:
    """The files of the stack's code asset, relative to `root`."""
    files = []
    for folder in ASSET_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            if (
                path.is_file()
                and EXCLUDED_FOLDER not in relative.parts
                and path.suffix not in EXCLUDED_SUFFIXES
            ):
                files.append(relative)
    return files


@dataclass(frozen=True)
class Sandbox:
    """What a function's interpreter can import on Lambda, and nothing else of this machine: the code
    asset copied (the task root), the layer's distributions and the runtime's boto3 linked from this
    virtualenv (bytecode included), each in a folder of its own."""

    task_root: Path
    layer: Path
    runtime: Path
    layer_bytes: int
    layer_distributions: tuple[str, ...]
    layer_missing: tuple[str, ...]  # in the layer, not installed here: neither copied nor counted

    def python_path(self) -> str:
        return os.pathsep.join(str(p) for p in (self.task_root, self.layer, self.runtime))

    def package(self) -> Package:
        asset = [p for p in self.task_root.rglob("*") if p.is_file()]
        return Package(
            asset_files=len(asset),
            asset_bytes=sum(p.stat().st_size for p in asset),
            geodata_bytes=sum(p.stat().st_size for p in asset if p.parent.name == GEODATA_FOLDER),
            layer_bytes=self.layer_bytes,
            layer_distributions=self.layer_distributions,
            layer_missing=self.layer_missing,
        )


@contextmanager
def sandbox(root: Path = ROOT, compiled: bool = False) -> Iterator[Sandbox]:
    """`compiled`: the task root holds the asset's modules compiled too (what the stack does not ship)."""
    with tempfile.TemporaryDirectory(prefix="oms-cold-start-") as directory:
        base = Path(directory)
        task_root, layer, runtime = base / "task", base / "opt" / "python", base / "runtime"
        for relative in asset_files(root):
            (task_root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / relative, task_root / relative)
        if compiled:
            compileall.compile_dir(task_root, quiet=1)
        runtime_distributions, _ = _closure(RUNTIME_PACKAGE, "", removed=())
        layer_distributions, missing = _closure(LAYER_PACKAGE, LAYER_EXTRA, removed=LAYER_REMOVES)
        _link(runtime_distributions, runtime)
        _link(layer_distributions, layer)
        names = tuple(sorted(_canonical(d.metadata["Name"]) for d in layer_distributions))
        yield Sandbox(task_root, layer, runtime, _installed_bytes(layer_distributions), names, tuple(missing))


def _link(distributions: Iterable[metadata.Distribution], target: Path) -> None:
    """Each distribution's top-level packages and modules, as its RECORD lists them (compiled bytecode
    included), linked, not copied: the bytecode stays valid, its source's mtime being the installed one."""
    target.mkdir(parents=True, exist_ok=True)
    for distribution in distributions:
        for top in {file.parts[0] for file in distribution.files or () if ".." not in file.parts}:
            source, link = Path(str(distribution.locate_file(top))), target / top
            if source.exists() and not link.exists():
                link.symlink_to(source)


def _installed_bytes(distributions: Iterable[metadata.Distribution]) -> int:
    total = 0
    for distribution in distributions:
        for file in distribution.files or ():
            path = Path(str(distribution.locate_file(file)))
            total += path.stat().st_size if ".." not in file.parts and path.is_file() else 0
    return total


def _closure(name: str, extra: str, removed: Iterable[str]) -> tuple[list[metadata.Distribution], list[str]]:
    """The installed distributions `name[extra]` needs, but `removed`, and the names it needs that are
    not installed here."""
    skipped = {_canonical(n) for n in removed}
    found: dict[str, metadata.Distribution] = {}
    missing: set[str] = set()
    pending = [(name, extra)]
    while pending:
        current, current_extra = pending.pop()
        key = _canonical(current)
        if key in skipped or key in found or key in missing:
            continue
        try:
            distribution = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            missing.add(key)
            continue
        found[key] = distribution
        pending += [(r.name, "") for r in _requirements(distribution, current_extra)]
    return list(found.values()), sorted(missing)


def _requirements(distribution: metadata.Distribution, extra: str) -> Iterable[Requirement]:
    for text in distribution.requires or ():
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
            yield requirement


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


# -- the measurement ----------------------------------------------------------------------------------


def timed_import(module: str, attribute: str | None, environment: dict[str, str], box: Sandbox) -> Import:
    """Import `module` in a fresh interpreter started in the task root with exactly `environment`,
    without this virtualenv's site-packages (`-S`): only what the sandbox holds can be imported."""
    command = [sys.executable, "-S", "-c", CHILD, module, *([attribute] if attribute else [])]
    done = subprocess.run(
        command, cwd=box.task_root, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return Import(
        ms=float(report["ms"]), cpu_ms=float(report["cpu_ms"]), modules=frozenset(report["modules"])
    )


def run(rounds: int = ROUNDS, names: Iterable[str] | None = None, root: Path = ROOT) -> ColdStartResult:
    """Every function (or those named), `rounds` times, alternating boto3's import and the handler's
    (then the handler's again from a task root with the asset compiled), from the code at `root`."""
    started = time.perf_counter()
    specs = [FUNCTIONS[name] for name in names] if names else list(FUNCTIONS.values())
    samples: dict[str, list[tuple[Import, Import]]] = {spec.name: [] for spec in specs}
    compiled: dict[str, list[float]] = {spec.name: [] for spec in specs}
    with sandbox(root) as box, sandbox(root, compiled=True) as compiled_box:
        for _ in range(rounds):
            for spec in specs:
                environment = lambda_environment(spec, box)
                module, attribute = spec.handler.rsplit(".", 1)
                baseline = timed_import("boto3", None, environment, box)
                samples[spec.name].append((timed_import(module, attribute, environment, box), baseline))
                again = timed_import(module, attribute, lambda_environment(spec, compiled_box), compiled_box)
                compiled[spec.name].append(again.ms)
        functions = tuple(_figures(spec, samples[spec.name], compiled) for spec in specs)
        worst = max(functions, key=lambda f: f.ratio)
        profiled = profile(FUNCTIONS[worst.name], box)
        packaged = box.package()
    return ColdStartResult(functions, packaged, rounds, time.perf_counter() - started, profiled)


def profile(spec: FunctionSpec, box: Sandbox) -> Profile:
    """One import of the function's handler under `-X importtime`, its modules' own times grouped."""
    module = spec.handler.rsplit(".", 1)[0]
    done = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", f"import {module}"],
        cwd=box.task_root,
        env=lambda_environment(spec, box),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    groups: dict[str, float] = {}
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[0].strip().isdigit():
            name = fields[2].strip()
            groups[module_group(name)] = groups.get(module_group(name), 0.0) + int(fields[0]) / 1000
    ranked = tuple(sorted(groups.items(), key=lambda item: -item[1]))
    return Profile(spec.name, sum(groups.values()), ranked)


# Groups of a profile: what each costs is a decision of its own (boto3 is the baseline).
_RUNTIME_TOPS = {"boto3", "botocore", "s3transfer", "urllib3", "dateutil", "jmespath", "six"}
_POWERTOOLS_DEPTH = {"utilities": 3, "event_handler": 3}


def module_group(name: str) -> str:
    """`shared.models.order` -> `shared.models`; Powertools by utility; boto3 and its dependencies as
    one; anything else by its top-level package (the standard library's included)."""
    parts = name.split(".")
    if parts[0] == "aws_lambda_powertools" and len(parts) > 1:
        return ".".join(parts[: _POWERTOOLS_DEPTH.get(parts[1], 2)])
    if parts[0] in {"shared", "functions"}:
        return ".".join(parts[:2])
    return "boto3 and its dependencies" if parts[0] in _RUNTIME_TOPS else parts[0]


def _figures(
    spec: FunctionSpec, pairs: list[tuple[Import, Import]], compiled: dict[str, list[float]]
) -> FunctionColdStart:
    return FunctionColdStart(
        name=spec.name,
        module=spec.handler.rsplit(".", 1)[0],
        import_ms=tuple(handler.ms for handler, _ in pairs),
        boto3_ms=tuple(baseline.ms for _, baseline in pairs),
        import_cpu_ms=tuple(handler.cpu_ms for handler, _ in pairs),
        boto3_cpu_ms=tuple(baseline.cpu_ms for _, baseline in pairs),
        compiled_ms=tuple(compiled[spec.name]),
        modules=pairs[-1][0].modules,
    )
