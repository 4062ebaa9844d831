{#- Model hooks for PostgreSQL (set in dbt_project.yml; empty elsewhere, and an empty hook is
    skipped). -#}

{#- pre-hook: no nested-loop joins while a model builds. PostgreSQL keeps no statistics for a CTE
    it materializes (one referenced twice, as `select * from ref(...)` import CTEs often are), so a
    join on such a CTE can be estimated at one row and planned as a nested loop that turns
    quadratic (fct_sla_instances: minutes instead of two seconds at scale 1). These models are
    whole-table transformations where hash and merge joins are the right plans; `set local` ends
    with the model's transaction. -#}
{% macro revops_planner_settings() -%}
    {{ return(adapter.dispatch('revops_planner_settings', 'revops_warehouse')()) }}
{%- endmacro %}

{% macro default__revops_planner_settings() -%}
{%- endmacro %}

{% macro postgres__revops_planner_settings() -%}
    set local enable_nestloop = off
{%- endmacro %}

{#- post-hook: fresh planner statistics for a table just built (dbt replaces a table by a new one,
    which has none until autovacuum gets to it), so the models built on it are planned on real
    row counts. Views have no statistics of their own. -#}
{% macro revops_analyze_relation() -%}
    {{ return(adapter.dispatch('revops_analyze_relation', 'revops_warehouse')()) }}
{%- endmacro %}

{% macro default__revops_analyze_relation() -%}
{%- endmacro %}

{% macro postgres__revops_analyze_relation() -%}
    {%- if model.resource_type == 'seed' or config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
