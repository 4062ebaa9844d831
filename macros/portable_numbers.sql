{#- A double-precision float type: DuckDB and Spark `double`, PostgreSQL `double precision`
    (dbt.type_float() is a 4-byte REAL on DuckDB). -#}
{% macro revops_type_double() -%}
    {{ return(adapter.dispatch('revops_type_double', 'revops_warehouse')()) }}
{%- endmacro %}

{% macro default__revops_type_double() -%}
    double
{%- endmacro %}

{% macro postgres__revops_type_double() -%}
    double precision
{%- endmacro %}

{#- A share or rate as a double: numerator / denominator, the numerator cast to double first.
    `1.0 * a / b` is a double on DuckDB but an arbitrary-scale numeric on PostgreSQL; this is a
    double on both, with identical values. -#}
{% macro revops_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as {{ revops_type_double() }}) / {{ denominator }})
{%- endmacro %}
