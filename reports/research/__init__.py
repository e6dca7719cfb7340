"""Research datasets: cohorts, de-identification (Safe Harbor, limited data set), suppressed count
tables, a data dictionary, and the release log (see docs/research-exports.md)."""
