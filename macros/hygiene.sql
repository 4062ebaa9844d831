{#-
    Where each object of the data dictionary lives in the unified model: the model, its record
    key, the rows that are that object, and the column holding its stage (lead status or
    opportunity stage), from the var hygiene_objects (dbt_project.yml), which the Great
    Expectations suites read too. This is the data model's shape, not a rule: the rules (which
    fields, from which stage) stay in the seeds. ref() is called for every object on every call
    so dbt records the dependencies at parse time.
-#}
{% macro hygiene_objects() -%}
    {%- set objects = {} -%}
    {%- for name, spec in var('hygiene_objects').items() -%}
        {%- do objects.update({name: {
            'relation': ref(spec['model']), 'key': spec['key'], 'where': spec['where'],
            'stage': spec['stage'],
        }}) -%}
    {%- endfor -%}
    {{ return(objects) }}
{%- endmacro %}

{#- The rows of a seed as a list of dicts, read at run time (empty at parse time). -#}
{% macro revops_seed_rows(seed_name, order_by) -%}
    {%- set relation = ref(seed_name) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set result = run_query('select * from ' ~ relation ~ ' order by ' ~ order_by) -%}
    {%- set rows = [] -%}
    {%- for row in result.rows -%}
        {%- set item = {} -%}
        {%- for column in result.column_names -%}
            {%- do item.update({column: row[column]}) -%}
        {%- endfor -%}
        {%- do rows.append(item) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{#- Fails the run naming the seed row when a rule names an object or a field the model lacks. -#}
{% macro revops_check_rule_field(seed_name, rule_id, object_name, field) -%}
    {%- set objects = hygiene_objects() -%}
    {%- if object_name not in objects -%}
        {{ exceptions.raise_compiler_error(
            seed_name ~ " row " ~ rule_id ~ ": unknown object '" ~ object_name ~ "'; use one of "
            ~ objects.keys() | list | join(', ')) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(objects[object_name]['relation']) | map(attribute='name') | map('lower') | list -%}
    {%- if field | lower not in columns -%}
        {{ exceptions.raise_compiler_error(
            seed_name ~ " row " ~ rule_id ~ ": field '" ~ field ~ "' is not a column of "
            ~ objects[object_name]['relation'] ~ " (object " ~ object_name ~ ")") }}
    {%- endif -%}
{%- endmacro %}

{#- A regular-expression match, true/false (null for null input). -#}
{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'revops_warehouse')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_matches(expression, pattern) -%}
    ({{ expression }} ~ {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ pattern }})
{%- endmacro %}
