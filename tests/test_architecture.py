"""The layering of docs/architecture.md, checked on the source so that it cannot drift:
the packages import one way (infrastructure, then the feature packages in their order, then the
top), ``domain/`` is pure, services never touch the HTTP request, no import circle, no import
hidden in a function to dodge one, and no module grows past 500 lines."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xkxl_intranet"
ROOT = "xkxl_intranet"

# The HTTP side of the house: the app factory, blueprints, forms, template setup, the error
# pages, the command line, the route helpers (web.py) and the role gates of auth/scoping.py.
HTTP_MODULES = {"xkxl_intranet", "xkxl_intranet.web", "xkxl_intranet.templating",
                "xkxl_intranet.cli", "xkxl_intranet.core.errors", "xkxl_intranet.files.cli",
                "xkxl_intranet.applications.cli",
                "xkxl_intranet.auth.scoping", "xkxl_intranet.extensions", "xkxl_intranet.guards",
                "xkxl_intranet.core.requestlog",  # the request log line and its id
                "xkxl_intranet.core.audit_hooks"}  # what the audit trail records of requests
HTTP_SUFFIXES = (".routes", ".forms")
# What only a request has: a service that used one could not run from a command or a test.
REQUEST_ONLY = {"request", "url_for", "abort", "flash", "current_user", "htmx", "session", "g"}
# Imports that stay inside a function, each with its reason.
LAZY_IMPORTS_ALLOWED = {
    ("xkxl_intranet", "create_app"),  # the factory imports its blueprints
    # ... and, where commands run (not serving, not the worker), the commands and Flask-Migrate
    ("xkxl_intranet", "_register_commands"),
    ("xkxl_intranet.printing", "_lean_user_agent_stylesheet"),  # WeasyPrint takes ~1 s to import
    ("xkxl_intranet.printing", "_report_html_class"),
    ("xkxl_intranet.printing", "write_pdf"),
    # The demo writes its 申报书 with python-docx and reads them back (its batches are reported,
    # which waits for readings): only `init-db --demo` loads the document readers, which the web
    # process (it registers the commands) never imports. docs/architecture.md, "Jobs".
    ("xkxl_intranet.cli", "_seed_demo"),
    # Alembic (and every migration script) only for a start that migrates (XKXL_AUTO_MIGRATE=1):
    # the serving command and /healthz read the schema's revisions without it (ops/schema.py).
    ("xkxl_intranet.ops.schema_guard", "guard_schema"),
}
MAX_LINES = 500

# The floors of docs/architecture.md, "The order of the packages", from the bottom up. A module
# imports from its own package, from the floor it stands on and from the floors below, never
# from above: at module level and inside a function alike.
INFRASTRUCTURE = frozenset({  # below every feature package; imports none of them
    "domain", "jobs", "clock", "extensions", "sqltypes", "processes", "instance_lock", "listing",
    "urls", "forms", "guards", "web", "printing", "generated", "fragment_cache", "filenames", "envsettings",
    "xlsx", "print_widths", "print_job", "notice"})
FEATURE_PACKAGES = ("rounds", "audit", "auth", "mail", "notifications", "files", "announcements", "applications",
                    "review", "reports", "materials", "batches", "trail")
TOP = frozenset({  # the app and its wiring: may import everything
    "", "models", "templating", "core", "ops", "cli", "demo", "serving", "worker", "job_handlers"})


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, tree: ast.Module, *, top_level_only: bool) -> set[str]:
    """Project modules ``module`` imports (``from x import y`` counts y when y is a module)."""
    found: set[str] = set()
    is_package = MODULES[module].name == "__init__.py"
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith(ROOT)}
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node, is_package)
            if not target.startswith(ROOT):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in MODULES else target)
    return {name for name in found if name in MODULES and name != module}


def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def _is_http(module: str) -> bool:
    return module in HTTP_MODULES or module.endswith(HTTP_SUFFIXES)


def test_there_is_no_import_circle():
    graph = {m: _imports(m, _tree(m), top_level_only=True) for m in MODULES}
    # Parents of a module import nothing of it (package __init__ files are empty but the
    # factory's), so a cycle here is a real one.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert cycles == []


def _floor(module: str) -> tuple[int, str]:
    """(floor, package) of a module: 0 infrastructure, 1… the feature packages in order, then
    the top. A package or top-level module that is on no floor fails the test."""
    unit = module.split(".")[1] if "." in module else ""
    if unit in INFRASTRUCTURE:
        return 0, unit
    if unit in FEATURE_PACKAGES:
        return 1 + FEATURE_PACKAGES.index(unit), unit
    assert unit in TOP, f"{unit or ROOT} is on no floor of docs/architecture.md"
    return 1 + len(FEATURE_PACKAGES), unit


def test_packages_import_one_way():
    upward = []
    for module in MODULES:
        floor, package = _floor(module)
        for target in _imports(module, _tree(module), top_level_only=False):
            target_floor, target_package = _floor(target)
            same_floor_ok = target_package == package or floor in (0, 1 + len(FEATURE_PACKAGES))
            if target_floor > floor or (target_floor == floor and not same_floor_ok):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_is_hidden_in_a_function():
    hidden = []
    for module in MODULES:
        for node in ast.walk(_tree(module)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom) and \
                            (module, node.name) not in LAZY_IMPORTS_ALLOWED:
                        hidden.append(f"{module}:{node.name}:{inner.lineno}")
    assert hidden == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _is_http(m)))
def test_services_do_not_touch_the_request(module):
    used = set()
    for node in ast.walk(_tree(module)):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = node.module or ""
        if source.split(".")[0] in {"flask", "flask_login", "flask_htmx"} or source.endswith("extensions"):
            used |= {a.name for a in node.names} & REQUEST_ONLY
    assert used == set()


def test_domain_is_pure():
    for module in (m for m in MODULES if m.startswith(f"{ROOT}.domain")):
        tree = _tree(module)
        outside = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                   and any(name.split(".")[0] in {"flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug"}
                           for name in ([a.name for a in n.names] if isinstance(n, ast.Import)
                                        else [n.module or ""]))]
        assert outside == [], module
        assert all(m.startswith(f"{ROOT}.domain") for m in _imports(module, tree, top_level_only=False)), module


def test_no_service_imports_the_http_side():
    http = {m for m in MODULES if m.endswith(HTTP_SUFFIXES)} | {
        "xkxl_intranet.web", "xkxl_intranet.templating", "xkxl_intranet.core.errors"}
    for module in (m for m in MODULES if not _is_http(m)):
        assert not (_imports(module, _tree(module), top_level_only=False) & http), module


def test_no_module_is_over_500_lines():
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


# What only the job worker imports (job_handlers.py): the web process starts without them.
DOCUMENT_READERS = ("pypdf", "pypdfium2", "docx", "lxml")
_WEB_PROCESS = textwrap.dedent("""
    import json, sys, traceback

    lxml_importers = []

    class WhoImportsLxml:
        def find_spec(self, name, path=None, target=None):
            if name == "lxml":
                lxml_importers.append([frame.filename for frame in traceback.extract_stack()])
            return None

    sys.meta_path.insert(0, WhoImportsLxml())
    from xkxl_intranet import create_app, serving
    from xkxl_intranet.extensions import db

    config = {"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": sys.argv[1],
              "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    app = create_app(config, commands=False)  # what serving runs
    create_app(config)  # what the flask command runs (init-db --demo loads the readers itself)
    with app.app_context():
        db.create_all()
    assert app.test_client().get("/login").status_code == 200
    print(json.dumps({"modules": sorted({name.split(".")[0] for name in sys.modules}),
                      "lxml_importers": lxml_importers}))
""")


def test_the_web_process_does_not_import_the_document_readers(tmp_path):
    """pypdf, PDFium, python-docx and lxml (which python-docx parses with) load only in the job
    worker. openpyxl, which the web process needs for its workbooks, looks for lxml to write them
    faster: that is the one import of lxml allowed, and no reader comes with it."""
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE.parent), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", _WEB_PROCESS, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(found["modules"]) & set(DOCUMENT_READERS) <= {"lxml"}
    assert all(any(name.endswith("openpyxl/xml/__init__.py") for name in stack) for stack in found["lxml_importers"])
