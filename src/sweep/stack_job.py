"""One job of a sweep: a single cell, or a stack of cells trained together.

A stack job is composed by Hydra as its first cell, with `hydra.sweeper.stack` listing every
cell's stackable overrides, as a JSON string (`hydra_plugins.trainmap_stack_sweeper`). Each
cell's config is derived from that one composition by applying its overrides with OmegaConf,
as Hydra would, and its folder gets the same `.hydra/` files a job of its own would have
written.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import pickle
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from hydra._internal.config_loader_impl import get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict, read_write
from omegaconf._utils import OmegaConfDumper
from threadpoolctl import threadpool_limits

from src.results import read_metrics, write_text_atomic
from src.sweep.job_log import cell_log, job_log_at
from src.sweep.worker import Train, quiet_console, run_cell

log = logging.getLogger(__name__)
STACK_OVERRIDE = "hydra.sweeper.stack="
DIRNAME = "${hydra.job.override_dirname}"  # the default `hydra.sweep.subdir`: Hydra's and ours
TrainStack = Callable[[list[DictConfig], list[Path]], list[dict[str, Any]]]
TaskFunction = TypeVar("TaskFunction", bound=Callable[..., Any])


def runs_stacks(keys: Collection[str]) -> Callable[[TaskFunction], TaskFunction]:
    """Mark a task function as one that runs stack jobs of runs differing only in `keys`."""

    def mark(task: TaskFunction) -> TaskFunction:
        task.stackable_keys = frozenset(keys)  # type: ignore[attr-defined]
        return task

    return mark


@dataclass(frozen=True)
class Task:
    """What a job needs from the trainer: train one run, train a stack, validate, report."""

    train: Train
    train_stack: TrainStack
    validate: Callable[[DictConfig], None]
    report: Callable[[dict[str, Any], Path], str]  # the line logged for a finished cell
    validate_stackable: Callable[[DictConfig], None]  # only the values a stack's runs vary


@dataclass(frozen=True)
class Run:
    """One cell of a stack: its task config, its folder and its `.hydra/` files' texts."""

    cfg: DictConfig
    out_dir: Path
    files: dict[str, str]  # path in out_dir -> text; {} when hydra.output_subdir is null


class StackJob:
    """A stack job's own composition, from which each of its cells' configs is derived."""

    def __init__(self, cfg: DictConfig, hydra: DictConfig) -> None:
        self.pickled = pickle.dumps(cfg)  # each cell gets a copy: unpickling is 4x a deepcopy
        self.root = copy.deepcopy(hydra)  # one working copy, rewritten for each cell in turn
        self.head = [parse_override(line) for line in _lines(hydra.hydra.overrides.task)]
        self.sweep_dir = str(hydra.hydra.sweep.dir)
        node = self.root.hydra
        with read_write(node), open_dict(node):
            node.overrides.hydra = [
                h for h in _lines(node.overrides.hydra) if not h.startswith(STACK_OVERRIDE)
            ]
            node.sweeper.stack = None
        self.config_yaml = SectionedYaml(cfg)
        self.hydra_yaml = SectionedYaml(node, wrapper="hydra")
        # Sections of the Hydra config every cell rewrites, and any a cell's own override set.
        self.hydra_changed = {"job", "runtime", "overrides"}
        # How folders are named, resolved once (each resolution parses its interpolations):
        # what every cell without `hydra.*` overrides of its own shares with the job.
        self.naming = OmegaConf.to_container(node.job.config.override_dirname, resolve=True)
        self.subdir_is_dirname = OmegaConf.to_container(node.sweep)["subdir"] == DIRNAME

    def derive(self, overrides: list[str], num: int | None = None) -> Run:
        """The cell whose overrides differ from the job's own in `overrides` (its stackable
        ones, and in a job of several stacks its stack's plain values), as job `num` would
        compose it (None: this job).

        A `hydra.*` override among them (e.g. a cell's own `hydra.sweep.subdir`) sets the cell's
        Hydra config; every cell of a stack names the same keys.
        """
        mine = {o.get_key_element(): o for o in map(parse_override, overrides)}
        own_hydra = [o for o in mine.values() if o.key_or_group.startswith("hydra.")]
        self.hydra_changed.update(o.key_or_group.split(".")[1] for o in own_hydra)
        cfg = pickle.loads(self.pickled)
        for override in mine.values():  # what Hydra does with a plain `key=value` override
            if not override.key_or_group.startswith("hydra."):
                OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
        task = [mine.get(o.get_key_element(), o) for o in self.head]
        lines = [o.input_line for o in task]
        node = self.root.hydra
        with read_write(node), open_dict(node):
            _set_hydra(self.root, own_hydra)
            job = node.job
            if num is not None:  # as the joblib launcher numbers its jobs
                job.num, job.id = num, f"{job.name}_{num}"
            node.overrides.task = lines
            naming = self.naming
            if own_hydra:  # it may name folders its own way
                naming = OmegaConf.to_container(job.config.override_dirname, resolve=True)
            dirname = job.override_dirname = get_overrides_dirname(overrides=task, **naming)
            subdir = dirname if self.subdir_is_dirname and not own_hydra else _subdir(cfg, node)
            out_dir = os.path.abspath(os.path.join(self.sweep_dir, subdir))
            node.runtime.output_dir = out_dir
        files = {}
        hydra_dir = node.output_subdir  # `.hydra`
        if hydra_dir is not None:  # what Hydra writes for a job of its own
            changed = {o.key_or_group.split(".")[0] for o in mine.values()} - {"hydra"}
            files = {
                f"{hydra_dir}/config.yaml": self.config_yaml.text(cfg, changed),
                f"{hydra_dir}/hydra.yaml": self.hydra_yaml.text(node, self.hydra_changed),
                f"{hydra_dir}/overrides.yaml": dump_yaml(lines),  # the list just set
            }
        return Run(cfg, Path(out_dir), files)


def _subdir(cfg: DictConfig, hydra: DictConfig) -> str:
    """`hydra.sweep.subdir` of a cell as Hydra resolves it: against the cell's whole config, so
    it may name task keys (`lr${optimizer.lr}`), which the Hydra config alone does not hold."""
    with read_write(cfg), open_dict(cfg):
        cfg.hydra = hydra  # a copy, grafted for the lookup only
        try:
            return str(cfg.hydra.sweep.subdir)
        finally:
            del cfg["hydra"]


def _set_hydra(root: DictConfig, overrides: list[Override]) -> None:
    """Apply a cell's own `hydra.*` overrides to its Hydra config and record them in place of
    the first cell's (the job's own)."""
    if not overrides:
        return
    lines = {o.key_or_group: o.input_line for o in overrides}
    for override in overrides:
        OmegaConf.update(root, override.key_or_group, override.value(), merge=True)
    recorded = _lines(root.hydra.overrides.hydra)
    root.hydra.overrides.hydra = [lines.get(h.split("=", 1)[0], h) for h in recorded]


def _lines(overrides: ListConfig) -> list[str]:
    """Override lines as written: a line such as `hydra.sweep.subdir=lr${optimizer.lr}` reads
    as an interpolation, which the Hydra config alone cannot resolve."""
    return OmegaConf.to_container(overrides, resolve=False)


class _FastDumper(getattr(yaml, "CDumper", yaml.Dumper)):  # type: ignore[misc]
    """OmegaConf's YAML dumper on libyaml's emitter where PyYAML has it: the same text, a cell's
    three `.hydra/` files in ~3 ms instead of ~7 (measured on the default config)."""


_FastDumper.add_representer(str, OmegaConfDumper.str_representer)


def dump_yaml(container: Any) -> str:
    """The text `OmegaConf.to_yaml` gives for the config of this plain container."""
    return yaml.dump(container, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=_FastDumper)  # fmt: skip


class SectionedYaml:
    """`to_yaml` of a mapping whose copies differ in a few top-level keys (its sections), e.g.
    the cells of a stack: a block mapping's text is its keys' texts one after another, so each
    section is dumped once here and only the sections a copy changes are dumped again (a cell
    of a stack changes 2 of its config's and 3 of its Hydra config's). `wrapper`: the node is
    the value of this one key of its file (Hydra's `hydra:`), so sections are dumped at its
    indentation.
    """

    def __init__(self, node: DictConfig, wrapper: str | None = None) -> None:
        self.wrapper = wrapper
        self.texts = {key: self._section(node, key) for key in node}

    def _section(self, node: DictConfig, key: Any) -> str:
        value = None if OmegaConf.is_interpolation(node, key) else node[key]
        if OmegaConf.is_config(value):  # converted in place: a masked copy would copy it first
            section = {key: OmegaConf.to_container(value, resolve=False, enum_to_str=True)}
        else:  # a value, as written
            section = OmegaConf.to_container(OmegaConf.masked_copy(node, [key]), resolve=False,
                                             enum_to_str=True)  # fmt: skip
        if self.wrapper is None:
            return dump_yaml(section)
        return dump_yaml({self.wrapper: section}).removeprefix(f"{self.wrapper}:\n")

    def text(self, node: DictConfig, changed: Collection[str]) -> str:
        """`to_yaml` of `node` (wrapped), a copy of the first that differs at most in the
        sections `changed` (and in sections it adds)."""
        head = f"{self.wrapper}:\n" if self.wrapper is not None else ""
        return head + "".join(self._section(node, key) if key in changed or key not in self.texts
                              else self.texts[key] for key in node)  # fmt: skip


@functools.lru_cache(maxsize=4096)
def parse_override(line: str) -> Override:
    """One override line as Hydra parses it; cells of a sweep repeat the same few lines, and
    Hydra's parser takes ~0.3 ms a line."""
    return OverridesParser.create().parse_overrides([line])[0]


def save(run: Run) -> None:
    """Write the run's `.hydra/` files."""
    for name, text in run.files.items():
        write_text_atomic(run.out_dir / name, text)


def run_job(cfg: DictConfig, hydra: DictConfig, task: Task) -> list[tuple[Path, dict[str, Any]]]:
    """Run the job's cell, or every cell of its stack(s) (of the stacks it shares with the
    launch's other jobs, those it claims first); log and return (folder, metrics) per cell.

    Never raises for a failed run: its cell records `error`.
    """
    spec = hydra.hydra.sweeper.get("stack")
    if not spec:
        out_dir = Path(hydra.hydra.runtime.output_dir)
        results = [(out_dir, run_cell(cfg, out_dir, task.train))]
        _report(results, task)
        return results
    job = StackJob(cfg, hydra)
    results: list[tuple[Path, dict[str, Any]]] = []
    failed: Exception | None = None
    claims = claims_of(spec)
    for k, (num, overrides) in enumerate(stacks_of(spec)):
        if k and not claim(claims, num):  # its first stack is its own; another job took this
            continue
        try:
            results += _stack(job, k, num, overrides, task)
        except Exception as err:  # a stack that cannot even be set up: Hydra reports it once
            log.error(f"stack {k} of this job failed ({type(err).__name__}: {err})")
            failed = failed or err  # ... after the job's other stacks have run
    if failed is not None:
        raise failed
    return results


def _stack(job: StackJob, k: int, num: int | None, overrides: list[list[str]],
           task: Task) -> list[tuple[Path, dict[str, Any]]]:  # fmt: skip
    """Derive, save and train stack `k` of the job (`num`: its own job number, if not this)."""
    runs = [job.derive(cell, num) for cell in overrides]
    # A later stack logs where a job of its own would have: its first cell's log file.
    with job_log_at(runs[0].out_dir if k else None):
        for run in runs:
            save(run)
        done = run_stack(runs, task)
        _report(done, task)
    return done


def stacks_of(spec: str) -> list[tuple[int | None, list[list[str]]]]:
    """(job number, each run's overrides) per stack of a job's `hydra.sweeper.stack`, a JSON
    string: a list of runs, or for a job of several stacks {"claims": folder, "stacks": [[job
    number, run, run, ...], ...]} (`None`: the job's own number)."""
    stacks = json.loads(spec)
    if isinstance(stacks, dict):
        return [(int(stack[0]), [list(run) for run in stack[1:]]) for stack in stacks["stacks"]]
    return [(None, [list(run) for run in stacks])]


def claims_of(spec: str) -> Path | None:
    """The folder in which the jobs of a launch claim the stacks they share (None: no sharing,
    the job trains all its stacks)."""
    stacks = json.loads(spec)
    return Path(stacks["claims"]) if isinstance(stacks, dict) else None


def claim(claims: Path | None, num: int | None) -> bool:
    """Whether this job is to train stack `num`: the first job to create the stack's file in
    `claims` is (creating a file that must not exist is atomic); without `claims`, this one."""
    if claims is None:
        return True
    try:
        os.close(os.open(claims / str(num), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _report(results: list[tuple[Path, dict[str, Any]]], task: Task) -> None:
    for out_dir, metrics in results:
        with cell_log(out_dir):
            log.info(task.report(metrics, out_dir))


def run_stack(runs: list[Run], task: Task) -> list[tuple[Path, dict[str, Any]]]:
    """Train the unfinished runs as one stack; a failure is recorded on its own run's cell only.

    Finished runs are skipped and a run whose config fails validation becomes an `error` cell
    (both through the per-cell guard); if the stack raises, its unfinished runs are run again one
    by one through that guard, so the run that failed is the only one recorded as `error`.
    """
    results: dict[Path, dict[str, Any]] = {}
    ready: list[Run] = []
    for run in runs:
        # Runs of a stack differ only in stackable values: the first to train is validated in
        # full, the others' stackable values are all they could get wrong (~1.5 ms, not ~6).
        check = task.validate_stackable if ready else task.validate
        if _finished(run.out_dir) or not _valid(run.cfg, check):
            results[run.out_dir] = _run_alone(run, task.train)
        else:
            ready.append(run)
    if ready:
        quiet_console()
        try:
            with threadpool_limits(limits=1):  # one BLAS thread per job, as for single cells
                trained = task.train_stack([r.cfg for r in ready], [r.out_dir for r in ready])
            results.update(zip((run.out_dir for run in ready), trained))
        except Exception as err:  # isolate: which run failed is for the per-cell guard to say
            log.warning(f"a stack of {len(ready)} runs failed ({type(err).__name__}: {err}); "
                        "running its unfinished runs one by one")  # fmt: skip
            for run in ready:
                results[run.out_dir] = _run_alone(run, task.train)
    return [(run.out_dir, results[run.out_dir]) for run in runs]


def _run_alone(run: Run, train: Train) -> dict[str, Any]:
    with cell_log(run.out_dir):
        return run_cell(run.cfg, run.out_dir, train)


def _finished(out_dir: Path) -> bool:
    metrics = read_metrics(out_dir)
    return metrics is not None and metrics.get("outcome") != "error"


def _valid(cfg: DictConfig, validate: Callable[[DictConfig], None]) -> bool:
    try:
        validate(cfg)
    except Exception:  # the per-cell guard runs it again and records the error
        return False
    return True
