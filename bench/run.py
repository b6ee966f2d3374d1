"""The programme benchmark's steps, once Django is set up: prepare the database, measure, report."""

import argparse
from functools import partial
from pathlib import Path

from bench import inprocess, report, synthetic
from bench.measure import LoadOptions, Measurement, measure


def run(args: argparse.Namespace, scratch: Path) -> int:
    """Measure each programme in turn and print its figures and targets; 1 if any request failed."""
    options = LoadOptions(
        seconds=args.seconds, connections=args.connections, max_requests=args.max_requests, rounds=args.rounds
    )
    inprocess.prepare_database()
    # The demo goes first: bench/synthetic.py deletes every event, so the demo is measured on its own.
    programmes = {"demo": inprocess.load_demo, "synthetic": partial(synthetic.build, sessions=args.sessions)}
    measurements: list[Measurement] = []
    for name, load_data in programmes.items():
        if args.only and args.only != name:
            continue
        measurement = measure(name, load_data, options, scratch)
        report.print_measurement(measurement)
        report.print_targets(measurement)
        measurements.append(measurement)
    errors = sum(measurement.errors for measurement in measurements)
    if errors:
        print(f"\n{errors} request(s) failed: the figures above are not to be trusted.")
    return 1 if errors else 0
