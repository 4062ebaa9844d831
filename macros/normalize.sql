{#- Normalizations shared by staging models. Portable: only dbt's cross-database macros and
    functions common to DuckDB, PostgreSQL and Spark. -#}

{#- Trimmed, lowercased email; blank -> null. -#}
{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- Domain of an email: the part after the first @; null when there is no @. -#}
{% macro email_domain(column) -%}
    case
        when {{ normalize_email(column) }} like '%@%'
            then nullif({{ dbt.split_part(normalize_email(column), "'@'", 2) }}, '')
    end
{%- endmacro %}

{#- Host of a website as typed ("https://www.Acme.com/about" -> "acme.com"): scheme, a leading
    "www.", path, query, port and a trailing dot removed; blank -> null. -#}
{% macro url_domain(column) -%}
    {%- set lowered = "lower(trim(" ~ column ~ "))" -%}
    {%- set no_scheme = dbt.replace(dbt.replace(lowered, "'https://'", "''"), "'http://'", "''") -%}
    {%- set host = dbt.split_part(dbt.split_part(dbt.split_part(dbt.split_part(no_scheme, "'/'", 1), "'?'", 1), "':'", 1), "'#'", 1) -%}
    nullif(
        rtrim(
            case
                when {{ host }} like 'www.%' then substring({{ host }}, 5)
                else {{ host }}
            end,
            '.'
        ),
        ''
    )
{%- endmacro %}

{#- A text value: trimmed, blank -> null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- The text under a top-level key of a JSON object held as text; null when absent. -#}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'revops_warehouse')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__json_text(column, key) -%}
    (cast({{ column }} as json) ->> '{{ key }}')
{%- endmacro %}

{% macro spark__json_text(column, key) -%}
    get_json_object({{ column }}, '$.{{ key }}')
{%- endmacro %}
