-- Stage-to-stage conversion of opportunities: per open stage (seed order) and the month an
-- opportunity first entered it, how many went on to a later stage and how many are won, by count
-- and by amount. Merged and deleted opportunities are already out of fct_opportunities; those
-- whose account is orphaned stay in.
with

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

stage_intervals as (
    select * from {{ ref('fct_opportunity_stage_history') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
    where object = 'opportunity'
),

-- Each opportunity counts once per stage, in the month it first entered it; re-entries after a
-- regression or reopening do not make a second entry.
stage_entries as (
    select
        stage_intervals.opportunity_id,
        stages.stage_name,
        stages.stage_order,
        min(stage_intervals.entered_at) as first_entered_at
    from stage_intervals
    inner join stages
        on stage_intervals.stage_name = stages.stage_name
    where stages.is_open
    group by stage_intervals.opportunity_id, stages.stage_name, stages.stage_order
),

-- Progress is entering, after the first entry, an open stage of a higher order or a won stage;
-- a lost stage shares the last order but is not progress.
progress_intervals as (
    select
        stage_intervals.opportunity_id,
        stages.stage_order,
        stage_intervals.entered_at
    from stage_intervals
    inner join stages
        on stage_intervals.stage_name = stages.stage_name
    where stages.is_open or stages.is_won
),

entries_progressed as (
    select
        stage_entries.opportunity_id,
        stage_entries.stage_name,
        stage_entries.stage_order,
        stage_entries.first_entered_at,
        max(case when progress_intervals.opportunity_id is not null then 1 else 0 end) = 1
            as has_reached_later_stage
    from stage_entries
    left join progress_intervals
        on
            stage_entries.opportunity_id = progress_intervals.opportunity_id
            and stage_entries.stage_order < progress_intervals.stage_order
            and stage_entries.first_entered_at < progress_intervals.entered_at
    group by
        stage_entries.opportunity_id,
        stage_entries.stage_name,
        stage_entries.stage_order,
        stage_entries.first_entered_at
),

cohort_members as (
    select
        entries_progressed.stage_name,
        entries_progressed.stage_order,
        cast({{ dbt.date_trunc('month', 'entries_progressed.first_entered_at') }} as date) as cohort_month,
        entries_progressed.has_reached_later_stage,
        opportunities.is_won,
        coalesce(opportunities.amount, 0) as amount
    from entries_progressed
    inner join opportunities
        on entries_progressed.opportunity_id = opportunities.opportunity_id
),

cohorts as (
    select
        stage_name,
        stage_order,
        cohort_month,
        count(*) as entered_count,
        -- numeric(38, 6): one scale on every warehouse (DuckDB's sum type; PostgreSQL's sum
        -- would keep each value's own scale)
        cast(sum(amount) as numeric(38, 6)) as entered_amount,
        count(case when has_reached_later_stage then 1 end) as reached_later_stage_count,
        cast(sum(case when has_reached_later_stage then amount else 0 end) as numeric(38, 6))
            as reached_later_stage_amount,
        count(case when is_won then 1 end) as won_count,
        cast(sum(case when is_won then amount else 0 end) as numeric(38, 6)) as won_amount
    from cohort_members
    group by stage_name, stage_order, cohort_month
),

final as (
    select
        stage_name,
        stage_order,
        cohort_month,
        entered_count,
        entered_amount,
        reached_later_stage_count,
        reached_later_stage_amount,
        won_count,
        won_amount,
        {{ revops_ratio('reached_later_stage_count', 'entered_count') }} as advance_rate_by_count,
        {{ revops_ratio('reached_later_stage_amount', 'nullif(entered_amount, 0)') }} as advance_rate_by_amount,
        {{ revops_ratio('won_count', 'entered_count') }} as win_rate_by_count,
        {{ revops_ratio('won_amount', 'nullif(entered_amount, 0)') }} as win_rate_by_amount
    from cohorts
)

select * from final
