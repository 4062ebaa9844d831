-- Funnel conversion by cohort: records grouped by the month they reached a step and by segment,
-- with how many reached the next step at all and within 30, 60 and 90 days. A missing segment
-- value becomes 'unknown' so the grain stays unique. The last step has no next step: its
-- next-step measures are null.
with

steps_reached as (
    select * from {{ ref('fct_funnel_steps_reached') }}
),

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

next_steps as (
    select
        funnel_steps.funnel_step,
        min(later_steps.step_order) as next_step_order
    from funnel_steps
    left join funnel_steps as later_steps
        on funnel_steps.step_order < later_steps.step_order
    group by funnel_steps.funnel_step
),

cohort_members as (
    select
        cast({{ dbt.date_trunc('month', 'steps_reached.reached_at') }} as date) as cohort_month,
        steps_reached.funnel_step,
        steps_reached.step_order,
        next_funnel_steps.funnel_step as next_funnel_step,
        coalesce(steps_reached.employee_band, 'unknown') as employee_band,
        coalesce(steps_reached.industry, 'unknown') as industry,
        coalesce(steps_reached.region, 'unknown') as region,
        coalesce(steps_reached.lead_source, 'unknown') as lead_source,
        coalesce(steps_reached.owner_team, 'unknown') as owner_team,
        steps_reached.reached_at,
        steps_reached.next_step_reached_at,
        steps_reached.days_to_next_step
    from steps_reached
    inner join next_steps
        on steps_reached.funnel_step = next_steps.funnel_step
    left join funnel_steps as next_funnel_steps
        on next_steps.next_step_order = next_funnel_steps.step_order
),

cohorts as (
    select
        cohort_month,
        funnel_step,
        step_order,
        next_funnel_step,
        employee_band,
        industry,
        region,
        lead_source,
        owner_team,
        count(*) as entered_count,
        count(next_step_reached_at) as reached_next_count,
        count(
            case when next_step_reached_at <= {{ dbt.dateadd('day', 30, 'reached_at') }} then 1 end
        ) as reached_next_within_30d_count,
        count(
            case when next_step_reached_at <= {{ dbt.dateadd('day', 60, 'reached_at') }} then 1 end
        ) as reached_next_within_60d_count,
        count(
            case when next_step_reached_at <= {{ dbt.dateadd('day', 90, 'reached_at') }} then 1 end
        ) as reached_next_within_90d_count,
        percentile_cont(0.5) within group (order by days_to_next_step) as median_days_to_next_step
    from cohort_members
    group by
        cohort_month,
        funnel_step,
        step_order,
        next_funnel_step,
        employee_band,
        industry,
        region,
        lead_source,
        owner_team
),

final as (
    select
        cohort_month,
        funnel_step,
        step_order,
        next_funnel_step,
        employee_band,
        industry,
        region,
        lead_source,
        owner_team,
        entered_count,
        case when next_funnel_step is not null then reached_next_count end as reached_next_count,
        case when next_funnel_step is not null then reached_next_within_30d_count end
            as reached_next_within_30d_count,
        case when next_funnel_step is not null then reached_next_within_60d_count end
            as reached_next_within_60d_count,
        case when next_funnel_step is not null then reached_next_within_90d_count end
            as reached_next_within_90d_count,
        case
            when next_funnel_step is not null then {{ revops_ratio('reached_next_count', 'entered_count') }}
        end as conversion_rate,
        case
            when next_funnel_step is not null then {{ revops_ratio('reached_next_within_30d_count', 'entered_count') }}
        end as conversion_rate_30d,
        case
            when next_funnel_step is not null then {{ revops_ratio('reached_next_within_60d_count', 'entered_count') }}
        end as conversion_rate_60d,
        case
            when next_funnel_step is not null then {{ revops_ratio('reached_next_within_90d_count', 'entered_count') }}
        end as conversion_rate_90d,
        median_days_to_next_step,
        -- A cohort's window is complete once its last member has had the full window up to as_of.
        {{ dbt.dateadd('day', 30, dbt.dateadd('month', 1, 'cohort_month')) }}
        <= {{ as_of_timestamp() }} as is_window_30d_complete,
        {{ dbt.dateadd('day', 60, dbt.dateadd('month', 1, 'cohort_month')) }}
        <= {{ as_of_timestamp() }} as is_window_60d_complete,
        {{ dbt.dateadd('day', 90, dbt.dateadd('month', 1, 'cohort_month')) }}
        <= {{ as_of_timestamp() }} as is_window_90d_complete
    from cohorts
)

select * from final
