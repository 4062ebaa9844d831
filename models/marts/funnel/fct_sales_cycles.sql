-- One row per won opportunity: calendar days from its creation to its close (the entry into the
-- won stage it is in now), with the opportunity owner's team and the funnel record's segment.
with

opportunities as (
    select * from {{ ref('fct_opportunities') }}
    where is_won
),

funnel_records as (
    select * from {{ ref('dim_funnel_records') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

final as (
    select
        opportunities.opportunity_id,
        funnel_records.funnel_record_id,
        opportunities.crm_account_id,
        opportunities.owner_user_id,
        users.team_name as owner_team,
        funnel_records.employee_band,
        funnel_records.industry,
        funnel_records.region,
        funnel_records.lead_source,
        opportunities.opportunity_type,
        opportunities.amount,
        opportunities.currency,
        opportunities.created_at,
        opportunities.closed_at,
        cast({{ dbt.date_trunc('month', 'opportunities.closed_at') }} as date) as closed_month,
        {{ dbt.datediff('opportunities.created_at', 'opportunities.closed_at', 'day') }}
            as sales_cycle_days
    from opportunities
    left join funnel_records
        on opportunities.opportunity_id = funnel_records.opportunity_id
    left join users
        on opportunities.owner_user_id = users.user_id
)

select * from final
