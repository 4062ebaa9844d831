{#-
    on-run-end: USAGE on exactly the schemas that hold a relation granted to a role (the `grants`
    config, set in dbt_project.yml for the BI-facing marts on PostgreSQL), and no USAGE for that
    role on the project's other schemas (staging, intermediate, core, audit, rules, sources), so
    the role reads the granted relations and nothing else. Roles and schemas come from the graph,
    never from a list written here. DuckDB has no GRANT: nothing is emitted there.
-#}
{% macro revops_grant_reporting_schemas() -%}
    {{ return(adapter.dispatch('revops_grant_reporting_schemas', 'revops_warehouse')()) }}
{%- endmacro %}

{% macro default__revops_grant_reporting_schemas() -%}
{%- endmacro %}

{% macro postgres__revops_grant_reporting_schemas() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set granted = {} -%}
    {%- set project_schemas = [] -%}
    {%- for node in graph.nodes.values() | list + graph.sources.values() | list -%}
        {%- if node.resource_type in ('model', 'seed', 'snapshot', 'source')
            and node.package_name == project_name
            and (node.config.enabled is not defined or node.config.enabled) -%}
            {%- if node.schema not in project_schemas -%}
                {%- do project_schemas.append(node.schema) -%}
            {%- endif -%}
            {%- set grants = (node.config.grants if node.config.grants is defined else none) or {} -%}
            {%- for role in grants.get('select', []) -%}
                {%- do granted.setdefault(role, []) -%}
                {%- if node.schema not in granted[role] -%}
                    {%- do granted[role].append(node.schema) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if granted | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set existing = run_query(
        "select nspname from pg_namespace where nspname in ('"
        ~ project_schemas | join("', '") ~ "')").columns[0].values() -%}
    {%- set statements = [] -%}
    {%- for role, schemas in granted.items() | sort -%}
        {%- for schema in project_schemas | sort if schema in existing -%}
            {%- if schema in schemas -%}
                {%- do statements.append('grant usage on schema ' ~ adapter.quote(schema) ~ ' to ' ~ adapter.quote(role)) -%}
            {%- else -%}
                {%- do statements.append('revoke all on schema ' ~ adapter.quote(schema) ~ ' from ' ~ adapter.quote(role)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements | join(';\n') ~ ';') }}
{%- endmacro %}
