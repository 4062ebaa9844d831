{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='lead_id',
    on_schema_change='fail',
    post_hook="{{ revops_delete_rows_without_parent('lead_id', ref('stg_salesforce__leads'), 'lead_id') }}",
) }}
-- One row per stretch of time a lead spent in one status, from LeadHistory. The first interval
-- starts at the lead's creation in the status the first Status change left (or, with no change,
-- the current status); it absorbs the 'created' history row. Consecutive changes into the same
-- status fold into one interval (history_row_count says how many source rows it holds).
-- Incremental (docs/incremental.md): a run rebuilds every interval of each lead with a row (its
-- own or a history row of any field) synced after the watermark, and replaces that lead's rows.
with
{% if is_incremental() %}
watermark as (
    {{ revops_incremental_since() }}
),

changed_leads as (
    select leads.lead_id
    from {{ ref('stg_salesforce__leads') }} as leads
    cross join watermark
    where {{ revops_synced_since('leads.synced_at') }}
    union
    select field_changes.lead_id
    from {{ ref('stg_salesforce__lead_field_changes') }} as field_changes
    cross join watermark
    where {{ revops_synced_since('field_changes.synced_at') }}
),
{% endif %}

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
    where exclusion_reason is null
    {% if is_incremental() %}
        and lead_id in (select lead_id from changed_leads)
    {% endif %}
),

field_changes as (
    select * from {{ ref('stg_salesforce__lead_field_changes') }}
    where exclusion_reason is null
    {% if is_incremental() %}
        and lead_id in (select lead_id from changed_leads)
    {% endif %}
),

-- The latest loader timestamp behind each lead's intervals (the lead row and its kept 'created'
-- and Status rows): the incremental watermark.
synced as (
    select
        lead_id,
        max(synced_at) as source_synced_at
    from (
        select
            lead_id,
            synced_at
        from leads
        union all
        select
            field_changes.lead_id,
            field_changes.synced_at
        from field_changes
        inner join leads
            on field_changes.lead_id = leads.lead_id
        where field_changes.field_name in ('status', 'created')
    ) as synced_rows
    group by lead_id
),

-- The tracked-field names are Salesforce's API names, not business rules.
status_changes as (
    select
        field_changes.lead_id,
        field_changes.lead_history_id,
        field_changes.old_value,
        field_changes.new_value as lead_status,
        field_changes.changed_at
    from field_changes
    inner join leads
        on field_changes.lead_id = leads.lead_id
    where field_changes.field_name = 'status'
),

created_rows as (
    select
        field_changes.lead_id,
        count(*) as history_row_count
    from field_changes
    inner join leads
        on field_changes.lead_id = leads.lead_id
    where field_changes.field_name = 'created'
    group by field_changes.lead_id
),

ranked_status_changes as (
    select
        lead_id,
        old_value,
        row_number() over (
            partition by lead_id order by changed_at, lead_history_id
        ) as change_number
    from status_changes
),

first_status_change as (
    select
        lead_id,
        old_value as initial_status
    from ranked_status_changes
    where change_number = 1
),

initial_status as (
    select
        leads.lead_id,
        cast(null as {{ dbt.type_string() }}) as lead_history_id,
        coalesce(first_status_change.initial_status, leads.lead_status) as lead_status,
        leads.created_at as changed_at,
        coalesce(created_rows.history_row_count, 0) as history_row_count
    from leads
    left join first_status_change
        on leads.lead_id = first_status_change.lead_id
    left join created_rows
        on leads.lead_id = created_rows.lead_id
),

all_changes as (
    select * from initial_status
    union all
    select
        lead_id,
        lead_history_id,
        lead_status,
        changed_at,
        1 as history_row_count
    from status_changes
),

with_previous as (
    select
        *,
        lag(lead_status) over (
            partition by lead_id order by changed_at, lead_history_id nulls first
        ) as previous_row_status
    from all_changes
),

flagged as (
    select
        *,
        case when previous_row_status = lead_status then 0 else 1 end as is_status_start
    from with_previous
),

numbered as (
    select
        *,
        sum(is_status_start) over (
            partition by lead_id
            order by changed_at, lead_history_id nulls first
            rows between unbounded preceding and current row
        ) as interval_number
    from flagged
),

intervals as (
    select
        lead_id,
        interval_number,
        min(lead_status) as lead_status,
        min(changed_at) as entered_at,
        sum(history_row_count) as history_row_count
    from numbered
    group by lead_id, interval_number
),

final as (
    select
        intervals.lead_id || '-' || cast(intervals.interval_number as {{ dbt.type_string() }}) as status_interval_id,
        intervals.lead_id,
        intervals.interval_number,
        intervals.lead_status,
        intervals.entered_at,
        lead(intervals.entered_at) over (
            partition by intervals.lead_id order by intervals.interval_number
        ) as exited_at,
        lead(intervals.lead_status) over (
            partition by intervals.lead_id order by intervals.interval_number
        ) as next_lead_status,
        lag(intervals.lead_status) over (
            partition by intervals.lead_id order by intervals.interval_number
        ) as previous_lead_status,
        intervals.history_row_count,
        synced.source_synced_at
    from intervals
    inner join synced
        on intervals.lead_id = synced.lead_id
)

select * from final
