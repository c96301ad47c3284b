#!/usr/bin/env python3
"""Links between the project's pages lead somewhere.

    docs_links.py REPO_ROOT

Checks README.md, CONTRIBUTING.md and docs/*.md:
  - Markdown links to files ([text](path) and [text](path#anchor)) name a file or
    folder that exists, and the anchor a heading of that page (GitHub's slugs);
  - paths in backticks that start with a folder of the project (docs/, examples/,
    include/, scripts/, src/, tests/, mpi/, cmake/, .ci/) exist;
  - a page named in backticks or bare (SOMETHING.md) is one of the project's.
Prints each dead link with its page and line, and exits 1 if there is any.
Standard library only.
"""
import os
import re
import sys

ROOT_DIRS = ("docs/", "examples/", "include/", "scripts/", "src/", "tests/", "mpi/",
             "cmake/", ".ci/")


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to -."""
    s = heading.strip().lower()
    s = re.sub(r"[`*_]", "", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    out = set()
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            elif not in_code and line.startswith("#"):
                out.add(slug(line.lstrip("#")))
    return out


def pages(root):
    found = [os.path.join(root, p) for p in ("README.md", "CONTRIBUTING.md")
             if os.path.exists(os.path.join(root, p))]
    docs = os.path.join(root, "docs")
    found += sorted(os.path.join(docs, p) for p in os.listdir(docs) if p.endswith(".md"))
    return found


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2])
        return 64
    root = os.path.abspath(sys.argv[1])
    all_pages = pages(root)
    known = {os.path.basename(p) for p in all_pages}
    known |= {p for p in os.listdir(root) if p.endswith(".md")}
    dead = []
    links = 0
    for page in all_pages:
        here = os.path.dirname(page)
        rel = os.path.relpath(page, root)
        in_code = False
        with open(page, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                if line.startswith("```"):
                    in_code = not in_code
                    continue
                if in_code:
                    continue
                for target in re.findall(r"\]\(([^)\s]+)\)", line):
                    if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
                        continue
                    links += 1
                    path, _, frag = target.partition("#")
                    dest = page if not path else os.path.normpath(os.path.join(here, path))
                    if not os.path.exists(dest):
                        dead.append(f"{rel}:{no}: link to {target}: no such file")
                    elif frag and dest.endswith(".md") and frag not in anchors(dest):
                        dead.append(f"{rel}:{no}: link to {target}: no heading '#{frag}'")
                for code in re.findall(r"`([^`\s]+)`", line):
                    if not code.startswith(ROOT_DIRS) or re.search(r"[*<>%{}$]|\.\.\.", code):
                        continue
                    links += 1
                    path = code.split(":")[0].rstrip(".,;")
                    if not os.path.exists(os.path.join(root, path)):
                        dead.append(f"{rel}:{no}: `{code}`: no such file or folder")
                for name in re.findall(r"(?<![\w/.-])([A-Z][A-Z_]+\.md)\b", line):
                    links += 1
                    if name not in known:
                        dead.append(f"{rel}:{no}: {name}: not a page of the project")
    for d in dead:
        print(d)
    print(f"docs links: {len(all_pages)} pages, {links} links and paths, {len(dead)} dead")
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
