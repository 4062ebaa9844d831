{#- ISO weekday of a date: 1 = Monday … 7 = Sunday. -#}
{% macro iso_weekday(date_expression) -%}
    {{ return(adapter.dispatch('iso_weekday', 'revops_warehouse')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro spark__iso_weekday(date_expression) -%}
    (((dayofweek({{ date_expression }}) + 5) % 7) + 1)
{%- endmacro %}

{#- Minutes after midnight of a local 'HH:MM' text. -#}
{% macro hhmm_to_minutes(text_expression) -%}
    (
        cast({{ dbt.split_part(text_expression, "':'", 1) }} as {{ dbt.type_int() }}) * 60
        + cast({{ dbt.split_part(text_expression, "':'", 2) }} as {{ dbt.type_int() }})
    )
{%- endmacro %}

{#- A CTE body listing every date from start_date to end_date (inclusive), named calendar_date:
    a cross join of digits (up to 100,000 days), portable where generate_series is not. -#}
{% macro revops_date_spine(start_date, end_date) -%}
    select
        cast({{ dbt.dateadd('day', 'numbers.day_offset', start_date) }} as date) as calendar_date
    from (
        select
            ones.digit
            + 10 * tens.digit
            + 100 * hundreds.digit
            + 1000 * thousands.digit
            + 10000 * ten_thousands.digit as day_offset
        from {{ revops_digits() }} as ones
        cross join {{ revops_digits() }} as tens
        cross join {{ revops_digits() }} as hundreds
        cross join {{ revops_digits() }} as thousands
        cross join {{ revops_digits() }} as ten_thousands
    ) as numbers
    where numbers.day_offset <= {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{% macro revops_digits() -%}
    (
        select 0 as digit union all select 1 union all select 2 union all select 3
        union all select 4 union all select 5 union all select 6 union all select 7
        union all select 8 union all select 9
    )
{%- endmacro %}
