{#- Incremental refresh helpers (see docs/incremental.md). An incremental model reprocesses every
    parent record (opportunity, lead, task) that has a source row synced after its watermark, and
    replaces all of that parent's rows (delete+insert on the parent key). -#}

{#- One-row select of `since`: the newest loader timestamp the model has already seen (max of its
    source_synced_at), minus the var incremental_lookback_minutes. A source row synced after it, or
    with no loader timestamp, is reprocessed. An empty model starts from the beginning. -#}
{% macro revops_incremental_since(column='source_synced_at') -%}
    {%- set held = [] -%}
    {%- if execute -%}
        {%- for held_column in adapter.get_columns_in_relation(this) -%}
            {%- do held.append(held_column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if execute and column not in held -%}
    {#- A table built before the model was incremental: start from the beginning, and let
        on_schema_change='fail' ask for the one --full-refresh the new column needs. -#}
    select cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}) as since
    {%- else %}
    select
        {{ dbt.dateadd(
            'minute',
            -1 * (var('incremental_lookback_minutes') | int),
            'coalesce(max(' ~ column ~ "), cast('1900-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ '))'
        ) }} as since
    from {{ this }}
    {%- endif %}
{%- endmacro %}

{#- True when a source row's loader timestamp is after the watermark (or unknown). -#}
{% macro revops_synced_since(synced_at, since='watermark.since') -%}
    ({{ synced_at }} is null or {{ synced_at }} > {{ since }})
{%- endmacro %}

{#- The later of two timestamps, ignoring nulls (greatest() treats nulls differently per database). -#}
{% macro revops_later_of(first, second) -%}
    case when {{ first }} is null or {{ second }} > {{ first }} then {{ second }} else {{ first }} end
{%- endmacro %}

{#- Post-hook of an incremental model: delete its rows whose parent no longer survives (deleted or
    merged since the last run, or gone from the source). delete+insert replaces only the parents
    that still have rows, so a parent that left needs this. Harmless on a full build. -#}
{% macro revops_delete_rows_without_parent(parent_column, parents_relation, parents_key) -%}
    delete from {{ this }} as incremental_target
    where not exists (
        select 1
        from {{ parents_relation }} as parents
        where
            parents.exclusion_reason is null
            and parents.{{ parents_key }} = incremental_target.{{ parent_column }}
    )
{%- endmacro %}
