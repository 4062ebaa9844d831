-- One row per stretch of time an opportunity spent in a stage (see int_opportunity_stages_intervaled
-- for how history rows fold into intervals), with the stage rules from the stage_definitions seed
-- and the kind of move that ended the interval.
with

intervals as (
    select * from {{ ref('int_opportunity_stages_intervaled') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
    where object = 'opportunity'
),

final as (
    select
        intervals.stage_interval_id,
        intervals.opportunity_id,
        intervals.interval_number,
        intervals.stage_name,
        stages.stage_order,
        stages.funnel_step,
        stages.is_closed,
        stages.is_won,
        intervals.entered_at,
        intervals.exited_at,
        intervals.exited_at is null as is_current,
        intervals.previous_stage_name,
        intervals.next_stage_name,
        next_stages.stage_order as next_stage_order,
        {{ revops_transition_type('stages', 'next_stages', 'intervals.next_stage_name') }} as exit_transition,
        case
            when
                next_stages.stage_order > stages.stage_order + 1
                and not (next_stages.is_closed and not next_stages.is_won)
                then next_stages.stage_order - stages.stage_order - 1
            else 0
        end as skipped_stage_count,
        {{ dbt.datediff('intervals.entered_at', 'coalesce(intervals.exited_at, ' ~ as_of_timestamp() ~ ')', 'minute') }}
        / 1440.0 as days_in_stage,
        intervals.history_row_count,
        intervals.is_synthesized
    from intervals
    left join stages
        on intervals.stage_name = stages.stage_name
    left join stages as next_stages
        on intervals.next_stage_name = next_stages.stage_name
)

select * from final
