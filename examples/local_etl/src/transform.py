"""A Python file task: one region of the day's orders (its parameters arrive as argv)."""

import argparse

from runspec.testing.dbutils import dbutils

parser = argparse.ArgumentParser()
parser.add_argument("--region", required=True)
parser.add_argument("--rows", type=int, required=True)
args = parser.parse_args()
regions = dbutils.jobs.taskValues.get("ingest", "regions", default=[])
print(f"transforming {args.region}: one of {len(regions)} regions, {args.rows} orders in all")
