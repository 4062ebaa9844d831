{#- The portable variant of the dbt Python model ../int_holidays_combined.py, for warehouses that
    run no dbt Python models (PostgreSQL). The rows are written before `dbt build` by the same
    Python function (python -m revops_warehouse.pg_holidays, see docs/postgres.md) into the table
    <var python_steps_schema>.holidays; this model only reads them. Enabled per target in
    dbt_project.yml: exactly one of the two variants exists in a run. -#}
{%- set holidays_relation = adapter.get_relation(
    database=target.database, schema=var('python_steps_schema'), identifier='holidays') if execute else none -%}
{%- if execute and holidays_relation is none -%}
    {{ exceptions.raise_compiler_error(
        "Table " ~ var('python_steps_schema') ~ ".holidays not found: on " ~ target.type
        ~ " the holidays are written by `python -m revops_warehouse.pg_holidays` before dbt build"
        ~ " (docs/postgres.md).") }}
{%- endif %}

with holidays as (
    select
        calendar_region,
        holiday_date,
        holiday_name
    from {{ holidays_relation if execute else var('python_steps_schema') ~ '.holidays' }}
)

select
    cast(calendar_region as {{ dbt.type_string() }}) as calendar_region,
    cast(holiday_date as date) as holiday_date,
    cast(holiday_name as {{ dbt.type_string() }}) as holiday_name
from holidays
where
    holiday_date >= cast('{{ var("calendar_first_year") }}-01-01' as date)
    and holiday_date <= cast('{{ var("calendar_last_year") }}-12-31' as date)
