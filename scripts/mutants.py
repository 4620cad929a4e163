"""Mutants of a Python module: one edit of its syntax tree each, written back as source.

Edits: arithmetic and comparison operator swaps, and <-> or, constants (0 -> 1, 1 -> 0 or 2,
x -> x + 1, True <-> False), a dropped `not` or unary minus, a negated if/while condition, a
dropped call statement, attribute or slice write, augmented assignment, break or continue, and
max <-> min (also argmax, maximum). Not edited: imports, annotations (the config schema, which
the bad-input tests cover), docstrings, f-strings and other strings.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SWAPS: dict[type, type] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult,
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.And: ast.Or, ast.Or: ast.And,
}  # fmt: skip
SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
           ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
           ast.NotIn: "not in", ast.And: "and", ast.Or: "or"}  # fmt: skip
NAMES = {"maximum": "minimum", "minimum": "maximum", "max": "min", "min": "max",
         "argmax": "argmin", "argmin": "argmax"}  # fmt: skip
Option = tuple[str, Callable[[ast.AST], ast.AST]]


def swap_op(op: ast.AST) -> Option:
    new = SWAPS[type(op)]
    return f"{SYMBOLS[type(op)]} -> {SYMBOLS[new]}", lambda node: _replace_op(node, op, new())


def _replace_op(node: ast.AST, old: ast.AST, new: ast.AST) -> ast.AST:
    if isinstance(node, ast.Compare):
        node.ops = [new if op is old else op for op in node.ops]
    else:
        node.op = new
    return node


def constant_options(value: object) -> list[Option]:
    if isinstance(value, bool):
        return [(f"{value} -> {not value}", lambda node: ast.Constant(not value))]
    if not isinstance(value, int | float):
        return []
    changes = {0: [1], 1: [0, 2]}.get(value, [value + 1])
    return [(f"{value!r} -> {new!r}", lambda node, new=new: ast.Constant(new))
            for new in (type(value)(c) for c in changes)]  # fmt: skip


def options(node: ast.AST, in_function: bool) -> list[Option]:
    """Every mutation of this one node, as (description, node -> replacement)."""
    if isinstance(node, ast.BinOp | ast.AugAssign | ast.BoolOp) and type(node.op) in SWAPS:
        found = [swap_op(node.op)]
        if isinstance(node, ast.AugAssign) and in_function:
            found.append(("drop augmented assignment", lambda n: ast.Pass()))
        return found
    if isinstance(node, ast.Compare):
        return [swap_op(op) for op in node.ops if type(op) in SWAPS]
    if isinstance(node, ast.Constant):
        return constant_options(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        return [(f"drop unary {'not' if isinstance(node.op, ast.Not) else '-'}",
                 lambda n: n.operand)]  # fmt: skip
    if isinstance(node, ast.If | ast.While | ast.IfExp) and not _is_not(node.test):
        return [("negate condition", _negate)]
    if isinstance(node, ast.Attribute) and node.attr in NAMES:
        new = NAMES[node.attr]
        return [(f".{node.attr} -> .{new}", lambda n: ast.Attribute(n.value, new, n.ctx))]
    if in_function and _droppable(node):
        return [("drop statement", lambda n: ast.Pass())]
    return []


def _is_not(test: ast.AST) -> bool:
    return isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)


def _negate(node: ast.AST) -> ast.AST:
    node.test = ast.UnaryOp(ast.Not(), node.test)
    return node


def _droppable(node: ast.AST) -> bool:
    """Calls for their effect, writes into attributes or array slices, break and continue."""
    if isinstance(node, ast.Expr):
        return not isinstance(node.value, ast.Constant)  # docstrings stay
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Attribute | ast.Subscript) for t in node.targets)
    return isinstance(node, ast.Break | ast.Continue)


class Mutator(ast.NodeTransformer):
    """Numbers every mutation site in a fixed order; replaces site `target` if given."""

    def __init__(self, target: int | None = None) -> None:
        self.target, self.sites, self.depth = target, [], 0

    def visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.JoinedStr | ast.arg) or _is_import(node):
            return node
        is_function = isinstance(node, ast.FunctionDef | ast.Lambda)
        self.depth += is_function
        if isinstance(node, ast.AnnAssign):
            node.value = node.value and self.visit(node.value)
        elif isinstance(node, ast.FunctionDef):
            node.args.defaults = [self.visit(d) for d in node.args.defaults]
            node.args.kw_defaults = [d and self.visit(d) for d in node.args.kw_defaults]
            node.body = [self.visit(s) for s in node.body]
        else:
            node = self.generic_visit(node)
        self.depth -= is_function
        for description, make in options(node, self.depth > 0):
            self.sites.append((getattr(node, "lineno", 0), description))
            if len(self.sites) - 1 == self.target:
                return ast.copy_location(make(node), node)
        return node


def _is_import(node: ast.AST) -> bool:
    return isinstance(node, ast.ImportFrom | ast.Import)


@dataclass
class Mutant:
    module: str
    line: int
    description: str
    source: str
    diff: str


def mutants(root: Path, module: str) -> Iterator[Mutant]:
    """Every mutant of `module`, a path relative to the repository `root`."""
    text = (root / module).read_text()
    counter = Mutator()
    original = ast.unparse(counter.visit(ast.parse(text)))
    for index, (line, description) in enumerate(counter.sites):
        source = ast.unparse(ast.fix_missing_locations(Mutator(index).visit(ast.parse(text))))
        diff = difflib.unified_diff(original.splitlines(), source.splitlines(), lineterm="", n=0)
        yield Mutant(module, line, description, source, "\n".join(list(diff)[2:]))
