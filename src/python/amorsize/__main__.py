"""``python -m amorsize``: the report of a profile and a comparison of runs.

    python -m amorsize summary run.h5            the text of `amorsize report run.h5`
    python -m amorsize findings run.h5           the bottlenecks as CSV
    python -m amorsize compare a.h5 b.h5 ...     runs side by side (text, csv or json)

Exit status as the C tool's: 0; 2 when a file is not a readable profile (one line
on stderr says why); 64 for a bad command line.
"""
import argparse
import sys

from . import ProfileError, __version__, open as open_profile
from .compare import compare, compare_text

EXIT_INPUT = 2
EXIT_USAGE = 64


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: {message}\n")
        sys.exit(EXIT_USAGE)


def _parser():
    ap = _Parser(prog="python -m amorsize",
                 description="Read Amorsize HDF5 profiles (docs/PYTHON.md).")
    ap.add_argument("--version", action="version", version=f"amorsize (Python) {__version__}")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    s = sub.add_parser("summary", help="the report of one profile (as `amorsize report`)")
    s.add_argument("file")
    s.add_argument("--no-verify", action="store_true",
                   help="read a file changed after writing (skip the CRC check)")
    f = sub.add_parser("findings", help="the bottlenecks of one profile as CSV")
    f.add_argument("file")
    f.add_argument("--no-verify", action="store_true")
    c = sub.add_parser("compare", help="runs side by side (as `amorsize compare`)")
    c.add_argument("files", nargs="+")
    c.add_argument("--format", choices=("text", "csv", "json"), default="text")
    c.add_argument("--no-verify", action="store_true")
    return ap


def _write(text):
    """Writes the report as bytes: a string cut inside a character (as C's %.Ns cuts
    it) goes out as the same bytes the C tool prints."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()


def main(argv=None):
    args = _parser().parse_args(argv)
    verify = not args.no_verify
    try:
        if args.cmd == "summary":
            _write(open_profile(args.file, verify=verify).summary(args.file))
        elif args.cmd == "findings":
            df = open_profile(args.file, verify=verify).findings
            df.drop(columns=["thresholds"]).to_csv(sys.stdout, index=False)
        else:
            if args.format == "text":
                if len(args.files) < 2:
                    sys.stderr.write("python -m amorsize compare: needs at least two profiles\n")
                    return EXIT_USAGE
                _write(compare_text(args.files, verify=verify))
            elif args.format == "csv":
                compare(args.files, verify=verify).to_csv(sys.stdout, index=False)
            else:
                sys.stdout.write(compare(args.files, verify=verify)
                                 .to_json(orient="records", indent=1) + "\n")
    except ProfileError as e:
        sys.stderr.write(f"amorsize: {e}\n")
        return EXIT_INPUT
    except BrokenPipeError:  # `| head` closed the pipe: not an error of ours
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
