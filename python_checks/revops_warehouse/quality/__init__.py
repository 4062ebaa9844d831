"""Great Expectations data layer: suites generated from the rule seeds, validated in the warehouse."""
