"""Exit codes of the project's commands (refresh, check), for schedulers. Documented in the README."""

OK = 0
# An error-severity data-quality rule failed on the data (results were written, data published).
DATA_QUALITY_ERRORS = 1
# dbt build (or another build step) failed; the last published data is untouched.
BUILD_FAILED = 2
# A check could not be evaluated (a malformed rule row, a rule that failed to run): not a data result.
CHECKS_DID_NOT_RUN = 3
# Another refresh holds the lock; this one touched nothing (EX_TEMPFAIL: try again later).
ALREADY_RUNNING = 75
