-- One row per stretch of time a lead spent in a status (see int_lead_statuses_intervaled), with
-- the status rules from the stage_definitions seed and the kind of move that ended it.
with

intervals as (
    select * from {{ ref('int_lead_statuses_intervaled') }}
),

statuses as (
    select * from {{ ref('stage_definitions') }}
    where object = 'lead'
),

final as (
    select
        intervals.status_interval_id,
        intervals.lead_id,
        intervals.interval_number,
        intervals.lead_status,
        statuses.stage_order as status_order,
        statuses.funnel_step,
        statuses.is_closed,
        statuses.is_won,
        intervals.entered_at,
        intervals.exited_at,
        intervals.exited_at is null as is_current,
        intervals.previous_lead_status,
        intervals.next_lead_status,
        {{ revops_transition_type('statuses', 'next_statuses', 'intervals.next_lead_status') }} as exit_transition,
        {{ dbt.datediff('intervals.entered_at', 'coalesce(intervals.exited_at, ' ~ as_of_timestamp() ~ ')', 'minute') }}
        / 1440.0 as days_in_status,
        intervals.history_row_count
    from intervals
    left join statuses
        on intervals.lead_status = statuses.stage_name
    left join statuses as next_statuses
        on intervals.next_lead_status = next_statuses.stage_name
)

select * from final
