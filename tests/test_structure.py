"""The shape of chalicelib/, read with ``ast``: modules a reader can hold in
mind, functions that do one thing, one direction between packages and no
import cycle, and no function-local import hiding one.

The order of the packages is drawn in the README (Layout); PACKAGE_ORDER
below is the same order, and a package may import only those before it.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "chalicelib"

#: lowest first: each package may import only packages listed before it
PACKAGE_ORDER = ["core", "notify", "membership", "accounts", "roster", "groups", "lifecycle", "imports", "integrations"]
#: packages beside the order: they may import ``core`` only
BESIDE = {"console"}
#: the top-level module that gathers every model for the local bootstrap
GATHERERS = {"chalicelib.models"}

#: heavy third-party modules imported inside a function, for a small cold
#: start (each Lambda loads only what its path needs)
LAZY_THIRD_PARTY = {
    "argon2",  # password hashing: sign-in, set password
    "argon2.exceptions",
    "zxcvbn",  # password strength: set password only
    "pyotp",  # two-factor codes: setting up and signing in with two factors
    "segno",  # the QR code: setting up two factors only
    "aws_lambda_powertools.utilities.batch",  # the import worker's batch processing only
    "boto3",  # clients are made on first use (core/clients.py)
    "botocore.config",
}

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def modules():
    """{dotted name: (path, tree)} of every module in chalicelib/."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


MODULES = modules()


def imported_modules(name, path, node):
    """The chalicelib modules an import statement names (a ``from x import
    y`` names x, and x.y when y is a module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("chalicelib")]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    if node.level:
        base = package.split(".")
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    elif node.module and node.module.startswith("chalicelib"):
        target = node.module
    else:
        return []
    return [t for t in [target] + [f"{target}.{a.name}" for a in node.names] if t in MODULES and t != name]


def functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def import_graph():
    return {name: {t for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                   for t in imported_modules(name, path, node)}
            for name, (path, tree) in MODULES.items()}


def package_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {str(path.relative_to(ROOT.parent)): n for path, _tree in MODULES.values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def _says_why(lines, node):
    """A comment on the line above the function (or its first decorator)."""
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return first >= 2 and lines[first - 2].strip().startswith("#")


def test_no_function_is_longer_than_forty_lines_unless_a_comment_says_why():
    long = []
    for path, tree in MODULES.values():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in functions(tree):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _says_why(lines, node):
                long.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, "functions over 40 lines with no comment saying why:\n" + "\n".join(long)


def test_no_function_local_import_except_listed_heavy_third_party_modules():
    local = []
    for name, (path, tree) in MODULES.items():
        for fn in functions(tree):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom):
                    named = [f"{'.' * node.level}{node.module or ''}"]
                elif isinstance(node, ast.Import):
                    named = [a.name for a in node.names]
                else:
                    continue
                local += [f"{path.relative_to(ROOT.parent)}:{node.lineno} {fn.name}: {n}"
                          for n in named if n not in LAZY_THIRD_PARTY]
    assert not local, "function-local imports (import at the top, or list a heavy third-party one):\n" + \
        "\n".join(local)


def test_no_import_cycle_between_modules():
    graph = import_graph()
    cycles, state = [], {}

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_packages_import_only_packages_below_them():
    known = set(PACKAGE_ORDER) | BESIDE
    wrong = []
    for module, targets in import_graph().items():
        here = package_of(module)
        if module in GATHERERS or here is None:
            continue
        assert here in known, f"package {here} is not in PACKAGE_ORDER or BESIDE: place it"
        for target in targets:
            there = package_of(target)
            if there in (None, here):
                continue
            allowed = ({"core"} if here in BESIDE else set(PACKAGE_ORDER[:PACKAGE_ORDER.index(here)]))
            if there not in allowed:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "imports against the package order (core <- notify <- membership <- accounts <- roster " \
        "<- groups <- imports):\n" + "\n".join(sorted(wrong))


@pytest.mark.parametrize("package", PACKAGE_ORDER + sorted(BESIDE))
def test_each_package_opens_with_a_docstring(package):
    _path, tree = MODULES[f"chalicelib.{package}"]
    assert ast.get_docstring(tree), f"chalicelib/{package}/__init__.py: say what the package is for"
