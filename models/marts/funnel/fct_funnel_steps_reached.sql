-- One row per funnel record × funnel step it reached. Leads reach steps through the funnel_step of
-- each status they enter, a converted lead continues through its opportunity's stages, and an
-- opportunity without a lead starts at its object's first step. Every record also reaches its
-- object's first step at its creation (a lead created straight into a later status is a lead).
-- A skipped step counts as passed: the funnel must be monotone, so a step is reached at the first
-- time the record stood at that step or any later one (for a skipped step, the time of the next
-- step it did reach).
with

funnel_records as (
    select * from {{ ref('dim_funnel_records') }}
),

lead_intervals as (
    select * from {{ ref('fct_lead_status_history') }}
),

opportunity_intervals as (
    select * from {{ ref('fct_opportunity_stage_history') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
),

funnel_steps as (
    select * from {{ ref('funnel_steps') }}
),

-- The first funnel step of each object (lead, opportunity), from the seeds.
object_first_steps as (
    select
        stages.object,
        min(funnel_steps.step_order) as step_order
    from stages
    inner join funnel_steps
        on stages.funnel_step = funnel_steps.funnel_step
    group by stages.object
),

lead_step_entries as (
    select
        funnel_records.funnel_record_id,
        funnel_steps.step_order,
        lead_intervals.entered_at,
        true as is_stage_entry
    from lead_intervals
    inner join funnel_records
        on lead_intervals.lead_id = funnel_records.lead_id
    inner join funnel_steps
        on lead_intervals.funnel_step = funnel_steps.funnel_step
),

opportunity_step_entries as (
    select
        funnel_records.funnel_record_id,
        funnel_steps.step_order,
        opportunity_intervals.entered_at,
        true as is_stage_entry
    from opportunity_intervals
    inner join funnel_records
        on opportunity_intervals.opportunity_id = funnel_records.opportunity_id
    inner join funnel_steps
        on opportunity_intervals.funnel_step = funnel_steps.funnel_step
),

-- Creation reaches the object's first step, even when the first status or stage has no step
-- (an opportunity created straight into a lost stage is still an opportunity).
lead_creations as (
    select
        funnel_records.funnel_record_id,
        object_first_steps.step_order,
        min(lead_intervals.entered_at) as entered_at,
        false as is_stage_entry
    from lead_intervals
    inner join funnel_records
        on lead_intervals.lead_id = funnel_records.lead_id
    cross join object_first_steps
    where object_first_steps.object = 'lead'
    group by funnel_records.funnel_record_id, object_first_steps.step_order
),

opportunity_creations as (
    select
        funnel_records.funnel_record_id,
        object_first_steps.step_order,
        min(opportunity_intervals.entered_at) as entered_at,
        false as is_stage_entry
    from opportunity_intervals
    inner join funnel_records
        on opportunity_intervals.opportunity_id = funnel_records.opportunity_id
    cross join object_first_steps
    where object_first_steps.object = 'opportunity'
    group by funnel_records.funnel_record_id, object_first_steps.step_order
),

step_entries as (
    select * from lead_step_entries
    union all
    select * from opportunity_step_entries
    union all
    select * from lead_creations
    union all
    select * from opportunity_creations
),

record_ranges as (
    select
        funnel_record_id,
        min(step_order) as first_step_order,
        max(step_order) as last_step_order
    from step_entries
    group by funnel_record_id
),

-- Every step from the record's first to its furthest, reached at the earliest entry into it or
-- any later step.
steps_reached as (
    select
        record_ranges.funnel_record_id,
        funnel_steps.funnel_step,
        funnel_steps.step_order,
        min(step_entries.entered_at) as reached_at,
        max(
            case
                when step_entries.step_order = funnel_steps.step_order and step_entries.is_stage_entry
                    then 1
                else 0
            end
        ) = 0 as is_inferred
    from record_ranges
    inner join funnel_steps
        on funnel_steps.step_order between record_ranges.first_step_order and record_ranges.last_step_order
    inner join step_entries
        on
            record_ranges.funnel_record_id = step_entries.funnel_record_id
            and funnel_steps.step_order <= step_entries.step_order
    group by record_ranges.funnel_record_id, funnel_steps.funnel_step, funnel_steps.step_order
),

with_next as (
    select
        steps_reached.*,
        lead(steps_reached.funnel_step) over (
            partition by steps_reached.funnel_record_id order by steps_reached.step_order
        ) as next_funnel_step,
        lead(steps_reached.reached_at) over (
            partition by steps_reached.funnel_record_id order by steps_reached.step_order
        ) as next_step_reached_at
    from steps_reached
),

final as (
    select
        with_next.funnel_record_id
        || '-' || cast(with_next.step_order as {{ dbt.type_string() }}) as funnel_step_reached_id,
        with_next.funnel_record_id,
        funnel_records.record_type,
        funnel_records.lead_id,
        funnel_records.opportunity_id,
        with_next.funnel_step,
        with_next.step_order,
        with_next.is_inferred,
        with_next.reached_at,
        with_next.next_funnel_step,
        with_next.next_step_reached_at,
        {{ dbt.datediff('with_next.reached_at', 'with_next.next_step_reached_at', 'minute') }}
        / 1440.0 as days_to_next_step,
        funnel_records.employee_band,
        funnel_records.industry,
        funnel_records.region,
        funnel_records.lead_source,
        funnel_records.owner_user_id,
        funnel_records.owner_team
    from with_next
    inner join funnel_records
        on with_next.funnel_record_id = funnel_records.funnel_record_id
)

select * from final
