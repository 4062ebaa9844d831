{#- A UTC timestamp (no time zone) as local wall-clock time in the IANA zone of tz_expression.
    timezone(zone, timestamp) / timezone(zone, timestamptz) behave alike on DuckDB and PostgreSQL,
    and neither depends on the session's time zone written this way. DST is the database's
    tz database's business. -#}
{% macro utc_to_local(timestamp_expression, tz_expression) -%}
    {{ return(adapter.dispatch('utc_to_local', 'revops_warehouse')(timestamp_expression, tz_expression)) }}
{%- endmacro %}

{% macro default__utc_to_local(timestamp_expression, tz_expression) -%}
    timezone({{ tz_expression }}, timezone('UTC', {{ timestamp_expression }}))
{%- endmacro %}

{% macro spark__utc_to_local(timestamp_expression, tz_expression) -%}
    from_utc_timestamp({{ timestamp_expression }}, {{ tz_expression }})
{%- endmacro %}

{#- Local wall-clock time in the zone of tz_expression back to a UTC timestamp (no time zone). -#}
{% macro local_to_utc(timestamp_expression, tz_expression) -%}
    {{ return(adapter.dispatch('local_to_utc', 'revops_warehouse')(timestamp_expression, tz_expression)) }}
{%- endmacro %}

{% macro default__local_to_utc(timestamp_expression, tz_expression) -%}
    timezone('UTC', timezone({{ tz_expression }}, {{ timestamp_expression }}))
{%- endmacro %}

{% macro spark__local_to_utc(timestamp_expression, tz_expression) -%}
    to_utc_timestamp({{ timestamp_expression }}, {{ tz_expression }})
{%- endmacro %}

{#- Minutes after local midnight of a timestamp, with seconds as a fraction; a double everywhere
    (extract() is a numeric on PostgreSQL, whose arithmetic would carry its scale into the minutes). -#}
{% macro minute_of_day(timestamp_expression) -%}
    cast(
        (
            extract(hour from {{ timestamp_expression }}) * 60
            + extract(minute from {{ timestamp_expression }})
            + extract(second from {{ timestamp_expression }}) / 60.0
        ) as {{ revops_type_double() }}
    )
{%- endmacro %}
