-- How long records really stay in each stage, so targets can be set from evidence: per object ×
-- stage of the stage_definitions seed, the closed intervals (exited_at set) and the 50th, 75th and
-- 90th percentiles of their calendar days, next to the seed's target. After a regression or a
-- reopening a stage is entered again: each interval counts on its own. Open intervals are left
-- out (their duration is not known yet); stages outside the seed have no row.
with

lead_intervals as (
    select * from {{ ref('fct_lead_status_history') }}
),

opportunity_intervals as (
    select * from {{ ref('fct_opportunity_stage_history') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
),

closed_intervals as (
    select
        'lead' as object_name,
        lead_intervals.lead_status as stage_name,
        lead_intervals.days_in_status as days_in_stage
    from lead_intervals
    where lead_intervals.exited_at is not null
    union all
    select
        'opportunity' as object_name,
        opportunity_intervals.stage_name,
        opportunity_intervals.days_in_stage
    from opportunity_intervals
    where opportunity_intervals.exited_at is not null
),

distribution as (
    select
        closed_intervals.object_name,
        closed_intervals.stage_name,
        count(*) as closed_interval_count,
        count(
            case when closed_intervals.days_in_stage <= stages.target_days_in_stage then 1 end
        ) as within_target_count,
        avg(closed_intervals.days_in_stage) as mean_days_in_stage,
        percentile_cont(0.5) within group (order by closed_intervals.days_in_stage) as p50_days_in_stage,
        percentile_cont(0.75) within group (order by closed_intervals.days_in_stage) as p75_days_in_stage,
        percentile_cont(0.9) within group (order by closed_intervals.days_in_stage) as p90_days_in_stage
    from closed_intervals
    inner join stages
        on
            closed_intervals.object_name = stages.object
            and closed_intervals.stage_name = stages.stage_name
    group by closed_intervals.object_name, closed_intervals.stage_name
),

final as (
    select
        stages.object as object_name,
        stages.stage_name,
        stages.stage_order,
        stages.is_open,
        coalesce(distribution.closed_interval_count, 0) as closed_interval_count,
        distribution.mean_days_in_stage,
        distribution.p50_days_in_stage,
        distribution.p75_days_in_stage,
        distribution.p90_days_in_stage,
        stages.target_days_in_stage,
        case
            when stages.target_days_in_stage is not null
                then {{ revops_ratio('distribution.within_target_count', 'distribution.closed_interval_count') }}
        end as within_target_share
    from stages
    left join distribution
        on
            stages.object = distribution.object_name
            and stages.stage_name = distribution.stage_name
)

select * from final
