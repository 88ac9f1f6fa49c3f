"""``treatysim discover SWEEP_DIR --outcome NAME --where EXPR``: scenario discovery on a sweep.

Exit codes: 0 written, 2 bad input (not a sweep folder, an unknown outcome, a bad ``--where``, no
case of interest, the ``explore`` extra not installed).
"""

from __future__ import annotations

import argparse
import sys

from treatysim.cli.parser import EXIT_BAD_INPUT, EXIT_OK


def discover_command(args: argparse.Namespace, argv: list[str]) -> int:
    """Run PRIM, CART and feature scoring on a sweep folder; write ``discovery/``."""
    from treatysim.report.discovery_report import (
        DiscoveryError,
        DiscoverySettings,
        missing_explore,
        write_discovery,
    )
    from treatysim.results.store import StoreError

    missing = missing_explore()
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return EXIT_BAD_INPUT
    settings = DiscoverySettings(
        outcome=args.outcome,
        where=args.where,
        on=args.on,
        min_coverage=args.min_coverage,
        density_tolerance=args.density_tolerance,
        peel_alpha=args.peel_alpha,
        mass_min=args.mass_min,
        cart_depth=args.cart_depth,
        svg=args.svg,
    )
    try:
        path = write_discovery(args.folder, settings)
    except (StoreError, DiscoveryError) as exc:
        print(
            f"{args.folder}: {exc}" if isinstance(exc, DiscoveryError) else str(exc),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if not args.quiet:
        import json

        result = json.loads(path.read_text(encoding="utf-8"))
        box = result["prim"]["box"]
        print(
            f"PRIM box for {result['outcome']} {result['where']} ({result['cases_of_interest']} "
            f"of {result['rows']} {result['on']}): coverage {box['coverage']:.2f}, density "
            f"{box['density']:.2f}, mass {box['mass']:.2f}"
        )
        for r in box["restrictions"]:
            limits = (
                f"{r['min']:.6g} to {r['max']:.6g}"
                if r["kind"] == "numeric"
                else ", ".join(r["values"])
            )
            qp = "–" if r["quasi_p"] is None else f"{r['quasi_p']:.2g}"
            print(f"  {r['factor']}: {limits} (quasi-p {qp})")
        print(f"discovery: {path}")
    return EXIT_OK
