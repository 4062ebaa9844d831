import os
import sys

from revops_warehouse.quality.runner import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
# Skip interpreter teardown: duckdb 2.0's nanobind bindings print a "leaked" report at shutdown for
# the connection SQLAlchemy's pool still references; the work (results, Data Docs) is done and flushed.
os._exit(code)
