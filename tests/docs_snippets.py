#!/usr/bin/env python3
"""The C snippets of the project's pages compile against the public headers.

    docs_snippets.py REPO_ROOT VERSION_HEADER_DIR CC [CFLAGS...]

Every ```c block of README.md, CONTRIBUTING.md and docs/*.md is compiled
(-fsyntax-only, warnings as errors, OpenMP pragmas checked). The blocks of one
page make one translation unit, in order, because a page's later snippets use what its earlier ones defined:
function and type definitions stay at file scope, and the statements of each
block become the body of a function of their own. What a page's prose supplies
(the user's own functions and variables: `n`, `data`, `work_on()`) is declared in
PROSE below, once for all pages or for one. A snippet that calls a function no
header declares, or misspells a library call, fails.
With `--fortran FC MODULE_DIR` among the flags, every ```fortran block is compiled
too (FC -fsyntax-only), as the body of a program that uses the `amorsize` module
from MODULE_DIR and `mpi`, with the names its prose supplies (FORTRAN_PROSE).
Prints one line per page and exits 1 if any page fails. Standard library only.
"""
import os
import re
import subprocess
import sys
import tempfile

HEADERS = """#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <amorsize.h>
#include <amorsize_mpi.h>
#include <amorsize_profile.h>
#include <amorsize_sim.h>
"""

# Names the prose of the pages supplies: the user's program around the snippet.
PROSE = {
    "*": """extern uint64_t n, items;
extern int rank, argc, provided, steps;
extern char **argv;
extern double data[], out[];
extern amz_options_t *opts;
double expensive(uint64_t i);
void work_on(void *arg, uint64_t i);
void compute_row(void *arg, uint64_t i);
uint64_t splitmix64(uint64_t *state);
""",
    "PORTING.md": """typedef struct { uint64_t n; double *old, *new; } field_t;
extern field_t f;
""",
}
# What the prose around a Fortran snippet supplies: a kernel and the variables.
FORTRAN_KERNEL = """module prose
  use, intrinsic :: iso_c_binding
  implicit none
contains
  integer(c_int) function kernel(begin, end, arg) bind(c)
    integer(c_int64_t), value :: begin, end
    type(c_ptr), value :: arg
    kernel = 0
  end function kernel
end module prose
"""
FORTRAN_PROSE = """  use mpi
  use prose
  use, intrinsic :: iso_c_binding
  implicit none
  type(amz_task_t) :: task
  type(c_ptr) :: opts, plan, res
  integer(c_int) :: rc
  integer :: n = 100
  real(c_double), target :: values(100)
"""
# Pages whose snippets are independent examples: one translation unit per block.
SEPARATE = {"README.md"}
# Names the page's own earlier snippets define as locals of the example program.
AFTER_TYPES = {
    "PORTING.md": "extern mc_t mc;\n",
}

TOP = re.compile(r"^(#include|typedef|enum\b|struct\b|static\b|int\b|void\b|double\b|uint64_t\b)")
# A prototype of the user's own function: `point_t sweep_point(double r);`.
PROTOTYPE = re.compile(r"^(?!return\b)[A-Za-z_]\w*\s+\**[A-Za-z_]\w*\([^=;]*\);$")


def code(line):
    """The line without its comments and trailing space."""
    return re.sub(r"/\*.*?\*/|//.*$", "", line).rstrip()


def split(block):
    """File-scope lines (includes, definitions) and the statements, in order."""
    top, body, depth, in_def = [], [], 0, False
    for line in block:
        c = code(line)
        if not in_def and depth == 0 and (TOP.match(line) or PROTOTYPE.match(c)) and (
                line.startswith("#include") or c.endswith("{") or
                line.startswith(("typedef", "enum")) or c.endswith(";") and "(" in line
                and line.startswith("static") or PROTOTYPE.match(c)):
            if line.startswith("#include"):
                continue  # every header is included once, above
            in_def = c.endswith("{")
            top.append(line)
            depth += c.count("{") - c.count("}")
            if depth == 0:
                in_def = False
            continue
        if in_def:
            top.append(line)
            depth += c.count("{") - c.count("}")
            if depth == 0:
                in_def = False
            continue
        body.append(line)
    return top, body


def blocks(path, lang="c"):
    out, cur, no = [], None, 0
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if cur is None and line.rstrip() == "```" + lang:
                cur = (no, [])
            elif cur is not None and line.startswith("```"):
                out.append(cur)
                cur = None
            elif cur is not None:
                cur[1].append(line)
    return out


def compile_group(name, group, cc, root, version_dir, extra):
    """Compiles blocks as one translation unit; returns the errors, or ""."""
    src = [HEADERS, PROSE["*"], PROSE.get(name, "")]
    funcs = []
    extern_after = AFTER_TYPES.get(name, "")
    for no, lines in group:
        top, body = split(lines)
        src.append(f"#line {no + 1} \"{name}\"\n")
        src.extend(top)
        if extern_after and "typedef" in "".join(top):
            src.append(extern_after)
            extern_after = ""
        if any(l.strip() for l in body):
            funcs.append((no, body))
    for k, (no, body) in enumerate(funcs):
        src.append(f"int snippet_{k}(void);\nint snippet_{k}(void) {{\n")
        src.append(f"#line {no + 1} \"{name}\"\n")
        src.extend(body)
        src.append("  return 0;\n}\n")
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as tmp:
        tmp.write("".join(src))
    cmd = [cc, "-fsyntax-only", "-std=c11", "-Wall", "-Werror", "-Wno-unused-variable",
           "-Wno-unused-but-set-variable", "-Wno-unused-function", "-Wno-main", "-fopenmp",
           f"-I{os.path.join(root, 'include')}", f"-I{version_dir}", *extra, tmp.name]
    r = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(tmp.name)
    return "" if r.returncode == 0 else r.stderr.replace(tmp.name, name)


def compile_fortran(name, no, lines, fc, moddir):
    """Compiles one Fortran block as a program body; returns the errors, or ""."""
    uses = [l for l in lines if l.strip().lower().startswith("use ")]
    rest = [l for l in lines if l not in uses]
    src = (FORTRAN_KERNEL + "program snippet\n" + "".join(uses) + FORTRAN_PROSE +
           "".join(rest) + "end program snippet\n")
    with tempfile.TemporaryDirectory() as d:
        f90 = os.path.join(d, "snippet.f90")
        with open(f90, "w") as f:
            f.write(src)
        r = subprocess.run([fc, "-fsyntax-only", "-Wall", "-Werror", "-Wno-unused-variable",
                            "-Wno-unused-dummy-argument", f"-I{moddir}", f"-J{d}", f90],
                           capture_output=True, text=True, cwd=d)
    return "" if r.returncode == 0 else f"(block at line {no})\n" + r.stderr


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[2])
        return 64
    root, version_dir, cc, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    fc = moddir = None
    if "--fortran" in extra:
        i = extra.index("--fortran")
        fc, moddir = extra[i + 1], os.path.abspath(extra[i + 2])
        del extra[i:i + 3]
    pages = [os.path.join(root, p) for p in ("README.md", "CONTRIBUTING.md")]
    docs = os.path.join(root, "docs")
    pages += sorted(os.path.join(docs, p) for p in os.listdir(docs) if p.endswith(".md"))
    failed = total = total_f = 0
    for page in pages:
        if not os.path.exists(page):
            continue
        bs = blocks(page)
        fs = blocks(page, "fortran") if fc else []
        if not bs and not fs:
            continue
        name = os.path.basename(page)
        groups = [[b] for b in bs] if name in SEPARATE else ([bs] if bs else [])
        ok = True
        for group in groups:
            err = compile_group(name, group, cc, root, version_dir, extra)
            if err:
                ok = False
                print(f"{name}: snippet at line {group[0][0]}: FAIL")
                print(err)
        for no, lines in fs:
            err = compile_fortran(name, no, lines, fc, moddir)
            if err:
                ok = False
                print(f"{name}: Fortran snippet at line {no}: FAIL")
                print(err)
        total += len(bs)
        total_f += len(fs)
        if ok:
            print(f"{name}: {len(bs) + len(fs)} snippet(s) compile")
        else:
            failed += 1
    print(f"docs snippets: {total} C blocks, {total_f} Fortran blocks, {failed} page(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
