"""Python helpers of the revops-warehouse dbt project."""
