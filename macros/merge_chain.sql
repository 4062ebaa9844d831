{#-
    Follows master_record_id chains (A merged into B, B later merged into C) for a CTE of
    (object_name, record_id, master_record_id, exclusion_reason), one join per hop up to the var
    merge_chain_max_depth. A fixed number of joins instead of a recursive CTE keeps it portable
    (Spark has no recursive CTEs). Emits one CTE per hop; the last is named `{{ prefix }}_final`.
    With `latest` (a timestamp column of the records), each row also carries chain_<latest>: the
    latest value over the records the chain has reached so far (the record and every record it was
    merged into that exists).
-#}
{% macro merge_chain_hops(records_cte, prefix='hop', latest=none) -%}
    {%- set depth = var('merge_chain_max_depth') | int -%}
{{ prefix }}_0 as (
    select
        object_name,
        record_id,
        coalesce(master_record_id, record_id) as current_record_id,
        {%- if latest is not none %}
        {{ latest }} as chain_{{ latest }},
        {%- endif %}
        case when master_record_id is null then 0 else 1 end as merge_depth
    from {{ records_cte }}
),
    {%- for hop in range(1, depth + 1) %}

{{ prefix }}_{{ hop }} as (
    select
        previous.object_name,
        previous.record_id,
        coalesce(pointed.master_record_id, previous.current_record_id) as current_record_id,
        {%- if latest is not none %}
        {{ revops_later_of('previous.chain_' ~ latest, 'pointed.' ~ latest) }} as chain_{{ latest }},
        {%- endif %}
        previous.merge_depth
        + case when pointed.master_record_id is not null then 1 else 0 end as merge_depth
    from {{ prefix }}_{{ hop - 1 }} as previous
    left join {{ records_cte }} as pointed
        on
            previous.object_name = pointed.object_name
            and previous.current_record_id = pointed.record_id
),
    {%- endfor %}

{{ prefix }}_final as (
    select * from {{ prefix }}_{{ depth }}
)
{%- endmacro %}

{#- Monthly factor of a billing interval: amounts per period × factor = amount per month. -#}
{% macro monthly_factor(interval_column, interval_count_column) -%}
    (
        case {{ interval_column }}
            when 'day' then 365.0 / 12
            when 'week' then 52.0 / 12
            when 'month' then 1.0
            when 'year' then 1.0 / 12
        end
        / nullif({{ interval_count_column }}, 0)
    )
{%- endmacro %}
