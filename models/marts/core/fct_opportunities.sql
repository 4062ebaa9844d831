-- One row per surviving opportunity: its account resolved through merge chains, its current stage
-- with the seed's rules, the lead it was converted from and how its stage path went.
with

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
    where exclusion_reason is null
),

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
    where exclusion_reason is null
),

merged_records as (
    select * from {{ ref('int_merged_records_resolved') }}
    where object_name = 'account'
),

stages as (
    select * from {{ ref('stage_definitions') }}
    where object = 'opportunity'
),

stage_history as (
    select * from {{ ref('fct_opportunity_stage_history') }}
),

path_summary as (
    select
        opportunity_id,
        count(*) as stage_interval_count,
        sum(case when exit_transition = 'skipped' then 1 else 0 end) as skip_count,
        sum(case when exit_transition = 'regressed' then 1 else 0 end) as regression_count,
        sum(case when exit_transition = 'reopened' then 1 else 0 end) as reopen_count,
        max(case when is_current then entered_at end) as current_stage_entered_at,
        max(case when is_closed and is_current then entered_at end) as closed_at,
        max(case when is_synthesized then 1 else 0 end) = 1 as has_no_stage_history
    from stage_history
    group by opportunity_id
),

conversions as (
    select
        converted_opportunity_id as opportunity_id,
        min(lead_id) as converted_from_lead_id
    from leads
    where converted_opportunity_id is not null
    group by converted_opportunity_id
),

final as (
    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        merged_records.surviving_record_id as crm_account_id,
        opportunities.account_id as raw_account_id,
        opportunities.account_id is not null and merged_records.surviving_record_id is null
            as has_orphaned_account,
        opportunities.owner_user_id,
        conversions.converted_from_lead_id,
        opportunities.stage_name,
        stages.stage_order,
        stages.funnel_step,
        coalesce(stages.is_closed, false) as is_closed,
        coalesce(stages.is_won, false) as is_won,
        stages.stage_name is null as has_unknown_stage,
        opportunities.amount,
        opportunities.probability,
        opportunities.amount * opportunities.probability / 100.0 as weighted_amount,
        opportunities.currency,
        opportunities.close_date,
        opportunities.opportunity_type,
        opportunities.lead_source,
        opportunities.forecast_category,
        opportunities.next_step,
        opportunities.created_by_user_id,
        opportunities.created_at,
        opportunities.last_modified_at,
        opportunities.last_activity_date,
        path_summary.current_stage_entered_at,
        path_summary.closed_at,
        path_summary.stage_interval_count,
        path_summary.skip_count,
        path_summary.regression_count,
        path_summary.reopen_count,
        path_summary.has_no_stage_history,
        {{ dbt.datediff(
            'opportunities.created_at',
            'coalesce(path_summary.closed_at, ' ~ as_of_timestamp() ~ ')',
            'day'
        ) }} as age_days
    from opportunities
    left join stages
        on opportunities.stage_name = stages.stage_name
    left join merged_records
        on opportunities.account_id = merged_records.record_id
    left join path_summary
        on opportunities.opportunity_id = path_summary.opportunity_id
    left join conversions
        on opportunities.opportunity_id = conversions.opportunity_id
)

select * from final
