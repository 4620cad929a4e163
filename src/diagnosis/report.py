"""Text for people: the cause line a run prints last, and the full report of `src.diagnose`."""

from __future__ import annotations

import shlex
from typing import Any

NO_RULE = "cause=None: no rule matched; `python -m src.diagnose <run_dir>` shows the measurements"


def cause_lines(metrics: dict[str, Any]) -> list[str]:
    """['cause=<name>: <summary>; try <overrides>'] for a run that did not converge, else []."""
    if metrics.get("outcome") in ("converged", "error") or "diagnosis" not in metrics:
        return []
    if not metrics["diagnosis"]:
        return [NO_RULE]
    top = metrics["diagnosis"][0]
    return [f"cause={top['cause']}: {top['summary']}; try {top['suggestion']}"]


def merge_overrides(original: list[str], suggestion: str) -> list[str]:
    """The run's overrides with `suggestion` applied: a key set again replaces the old value,
    a group switch (`init=xavier_normal`) also drops the old option's keys (`init.std=1`), and
    `~key` drops the run's own `key=...` instead of deleting a key it no longer has."""
    merged = list(original)
    own = {_key(o) for o in original}
    for token in shlex.split(suggestion):
        if token.startswith("~"):
            key = token[1:]
            merged = [o for o in merged if _key(o) != key] if key in own else [*merged, token]
            continue
        key = _key(token)
        is_group = "." not in key
        merged = [o for o in merged if not _replaced(_key(o), key, is_group)]
        merged.append(token)
    return merged


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _replaced(old: str, new: str, is_group: bool) -> bool:
    return old == new or (is_group and old.startswith(new + "."))


def full_report(metrics: dict[str, Any], overrides: list[str] | None) -> str:
    """Outcome, every cause with its evidence and suggestion, then the measurements."""
    lines = [_outcome(metrics)]
    if metrics.get("outcome") == "error":
        return "\n".join([*lines, f"error: {metrics.get('error')}"])
    if "diagnosis" not in metrics:
        return "\n".join([*lines, "no diagnosis recorded (the run predates it); rerun it"])
    findings = metrics["diagnosis"]
    if not findings:
        none = "converged: no cause" if metrics["outcome"] == "converged" else NO_RULE
        lines.append(none)
    for rank, f in enumerate(findings, 1):
        lines += _finding(rank, f, overrides)
    return "\n".join([*lines, "", *measurements(metrics.get("signals", {}))])


def _outcome(m: dict[str, Any]) -> str:
    keys = ("outcome", "test_accuracy", "chance", "predicted_class_share", "steps",
            "first_nonfinite_step")  # fmt: skip
    return " ".join(f"{k}={_num(m.get(k)) if m.get(k) is not None else None}" for k in keys)


def _finding(rank: int, f: dict[str, Any], overrides: list[str] | None) -> list[str]:
    evidence = " ".join(f"{k}={_num(v)}" for k, v in f["evidence"].items())
    lines = [
        "",
        f"{rank}. {f['cause']} (confidence {f['confidence']:.2f})",
        f"   {f['summary']}",
        f"   evidence: {evidence}",
        f"   try: {f['suggestion']}",
    ]
    if overrides is not None:
        command = shlex.join(
            ["python", "-m", "src.train", *merge_overrides(overrides, f["suggestion"])]
        )
        lines.append(f"   rerun: {command}")
    return lines


def measurements(s: dict[str, Any]) -> list[str]:
    """The probe-batch measurements at init and at the end, one per line."""
    if not s:
        return []
    init, last = s["init"], s["last"]
    rows = [
        ("loss", init["loss"], last["loss"]),
        ("dead ReLU share", init["dead_relu"], last["dead_relu"]),
        ("saturated hidden share", init["saturated"], last["saturated"]),
        ("saturated output share", init["output_saturated"], last["output_saturated"]),
    ]
    for name in init["grad_norms"]:
        rows.append((f"grad norm {name}", init["grad_norms"][name], last["grad_norms"].get(name)))
        rows.append((f"step ratio {name}", init["update_ratios"][name],
                     last["update_ratios"].get(name)))  # fmt: skip
    out = [f"measurements on the probe batch (epoch 0 = init, epoch {last['epoch']} = last):"]
    out += [f"  {name:<34} {_num(a):>10} {_num(b):>10}" for name, a, b in rows]
    x = s["inputs"]
    n = {k: _num(s[k]) for k in ("step_ratio", "noise_factor", "movement", "baseline_loss")}
    out += [
        f"  inputs: max |x| = {_num(x['max_abs'])}, integer pixels: {x['integer_valued']}",
        f"  step ratio at the run's batch size: {n['step_ratio']} (noise x{n['noise_factor']});"
        f" movement (steps x ratio): {n['movement']}; loss trajectory: {s['trajectory']}",
        f"  constant-output loss: {n['baseline_loss']}; pre-activation growth per ReLU/tanh layer:"
        f" {_num(s['growth'])}",
    ]
    if s.get("nonfinite_layer") or s.get("nonfinite_params"):
        out.append(f"  first non-finite: {s['nonfinite_layer']}; non-finite parameters: "
                   f"{', '.join(s['nonfinite_params']) or 'none'}")  # fmt: skip
    return out


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return "-" if v is None else str(v)
