{#- Custom schemas are used as given (staging, intermediate, core, …) instead of dbt's default
    <target_schema>_<custom>, so the raw loader schemas and the model schemas read plainly in BI. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
