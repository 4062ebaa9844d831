{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='opportunity_id',
    on_schema_change='fail',
    post_hook="{{ revops_delete_rows_without_parent('opportunity_id', ref('stg_salesforce__opportunities'), 'opportunity_id') }}",
) }}
-- One row per stretch of time an opportunity spent in one stage. OpportunityHistory writes a row
-- on every change of stage, amount, probability or close date: consecutive rows in the same stage
-- fold into one interval (history_row_count says how many). A move back to an earlier stage, or
-- out of a closed stage, starts a new interval, so a stage can have several intervals.
-- Incremental (docs/incremental.md): a run rebuilds every interval of each opportunity with a row
-- (its own or a history row) synced after the watermark, and replaces that opportunity's rows.
with
{% if is_incremental() %}
watermark as (
    {{ revops_incremental_since() }}
),

changed_opportunities as (
    select opportunities.opportunity_id
    from {{ ref('stg_salesforce__opportunities') }} as opportunities
    cross join watermark
    where {{ revops_synced_since('opportunities.synced_at') }}
    union
    select changes.opportunity_id
    from {{ ref('stg_salesforce__opportunity_changes') }} as changes
    cross join watermark
    where {{ revops_synced_since('changes.synced_at') }}
),
{% endif %}

changes as (
    select * from {{ ref('stg_salesforce__opportunity_changes') }}
    where exclusion_reason is null
    {% if is_incremental() %}
        and opportunity_id in (select opportunity_id from changed_opportunities)
    {% endif %}
),

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where exclusion_reason is null
    {% if is_incremental() %}
        and opportunity_id in (select opportunity_id from changed_opportunities)
    {% endif %}
),

-- The latest loader timestamp behind each opportunity's intervals: the incremental watermark.
synced as (
    select
        opportunity_id,
        max(synced_at) as source_synced_at
    from (
        select
            opportunity_id,
            synced_at
        from opportunities
        union all
        select
            changes.opportunity_id,
            changes.synced_at
        from changes
        inner join opportunities
            on changes.opportunity_id = opportunities.opportunity_id
    ) as synced_rows
    group by opportunity_id
),

kept_changes as (
    select
        changes.opportunity_id,
        changes.opportunity_history_id,
        changes.stage_name,
        changes.changed_at
    from changes
    inner join opportunities
        on changes.opportunity_id = opportunities.opportunity_id
),

-- An opportunity without any history row (history tracking switched on late, or a loader gap)
-- gets one interval in its current stage from its creation: flagged is_synthesized.
missing_history as (
    select
        opportunities.opportunity_id,
        cast(null as {{ dbt.type_string() }}) as opportunity_history_id,
        opportunities.stage_name,
        opportunities.created_at as changed_at
    from opportunities
    left join kept_changes
        on opportunities.opportunity_id = kept_changes.opportunity_id
    where kept_changes.opportunity_id is null
),

all_changes as (
    select
        *,
        1 as history_row_count
    from kept_changes
    union all
    select
        *,
        0 as history_row_count
    from missing_history
),

with_previous as (
    select
        *,
        lag(stage_name) over (
            partition by opportunity_id order by changed_at, opportunity_history_id
        ) as previous_row_stage_name
    from all_changes
),

flagged as (
    select
        *,
        case when previous_row_stage_name = stage_name then 0 else 1 end as is_stage_start
    from with_previous
),

numbered as (
    select
        *,
        sum(is_stage_start) over (
            partition by opportunity_id
            order by changed_at, opportunity_history_id
            rows between unbounded preceding and current row
        ) as interval_number
    from flagged
),

intervals as (
    select
        opportunity_id,
        interval_number,
        min(stage_name) as stage_name,
        min(changed_at) as entered_at,
        sum(history_row_count) as history_row_count,
        min(history_row_count) = 0 as is_synthesized
    from numbered
    group by opportunity_id, interval_number
),

final as (
    select
        intervals.opportunity_id || '-' || cast(intervals.interval_number as {{ dbt.type_string() }})
            as stage_interval_id,
        intervals.opportunity_id,
        intervals.interval_number,
        intervals.stage_name,
        intervals.entered_at,
        lead(intervals.entered_at) over (
            partition by intervals.opportunity_id order by intervals.interval_number
        ) as exited_at,
        lead(intervals.stage_name) over (
            partition by intervals.opportunity_id order by intervals.interval_number
        ) as next_stage_name,
        lag(intervals.stage_name) over (
            partition by intervals.opportunity_id order by intervals.interval_number
        ) as previous_stage_name,
        intervals.history_row_count,
        intervals.is_synthesized,
        synced.source_synced_at
    from intervals
    inner join synced
        on intervals.opportunity_id = synced.opportunity_id
)

select * from final
