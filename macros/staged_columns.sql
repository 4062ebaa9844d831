{#-
    The select list of a staging model's import CTE, driven by the raw contract in the source YAML
    (every column with config.meta.type and config.meta.required). Present columns are cast to the
    declared type; optional columns the loader did not land are filled with typed nulls (as
    Fivetran's packages do); a missing required column or a missing table stops the run with an
    error that names them. Extra raw columns are ignored.
-#}
{% macro staged_columns(source_name, table_name) -%}
    {#- At parse time, and inside dbt unit tests (whose fixture already has every column of the
        real table and where the graph holds no sources), the columns pass through as they are. -#}
    {%- if not execute or graph.sources is not defined -%}
        {{ return('*') }}
    {%- endif -%}
    {%- set node = revops_source_node(source_name, table_name) -%}
    {%- set relation = adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.identifier) -%}
    {%- if relation is none -%}
        {{ exceptions.raise_compiler_error(
            "Source table " ~ source_name ~ "." ~ table_name ~ " not found at "
            ~ node.database ~ "." ~ node.schema ~ "." ~ node.identifier
            ~ ": set the vars " ~ source_name ~ "_schema / " ~ source_name ~ "_" ~ table_name
            ~ "_identifier to where your loader lands it.") }}
    {%- endif -%}
    {%- set present = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do present.append(column.name | lower) -%}
    {%- endfor -%}
    {%- set missing_required = [] -%}
    {%- set parts = [] -%}
    {%- for column_name, column in node.columns.items() -%}
        {%- set meta = revops_column_meta(column) -%}
        {%- set sql_type = revops_contract_type(meta.get('type'), source_name ~ '.' ~ table_name ~ '.' ~ column_name) -%}
        {%- if column_name | lower in present -%}
            {%- do parts.append('cast(' ~ adapter.quote(column_name) ~ ' as ' ~ sql_type ~ ') as ' ~ column_name) -%}
        {%- elif meta.get('required', false) -%}
            {%- do missing_required.append(column_name) -%}
        {%- else -%}
            {%- do parts.append('cast(null as ' ~ sql_type ~ ') as ' ~ column_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing_required | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "Source table " ~ source_name ~ "." ~ table_name ~ " (" ~ relation ~ ") lacks required column(s): "
            ~ missing_required | join(', ') ~ ". Land them, or map them in a view and point the var "
            ~ source_name ~ "_" ~ table_name ~ "_identifier at it.") }}
    {%- endif -%}
    {{ parts | join(',\n        ') }}
{%- endmacro %}

{% macro revops_source_node(source_name, table_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("No source " ~ source_name ~ "." ~ table_name ~ " is declared in the sources YAML.") }}
{%- endmacro %}

{% macro revops_column_meta(column) -%}
    {%- set meta = {} -%}
    {%- if column.meta is defined and column.meta -%}
        {%- do meta.update(column.meta) -%}
    {%- endif -%}
    {%- if column.config is defined and column.config and column.config.meta -%}
        {%- do meta.update(column.config.meta) -%}
    {%- endif -%}
    {{ return(meta) }}
{%- endmacro %}

{#- Contract type names -> this warehouse's types, through dbt's cross-database type macros. -#}
{% macro revops_contract_type(type_name, where) -%}
    {%- set types = {
        'string': dbt.type_string(),
        'timestamp': dbt.type_timestamp(),
        'date': 'date',
        'numeric': dbt.type_numeric(),
        'integer': dbt.type_bigint(),
        'boolean': dbt.type_boolean(),
    } -%}
    {%- if type_name not in types -%}
        {{ exceptions.raise_compiler_error("Unknown contract type '" ~ type_name ~ "' for " ~ where ~ " in the sources YAML; use one of " ~ types.keys() | list | join(', ')) }}
    {%- endif -%}
    {{ return(types[type_name]) }}
{%- endmacro %}
