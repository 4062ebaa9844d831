-- One row per record that travels the lifecycle funnel: every surviving lead, and every surviving
-- opportunity that was not converted from a lead (a converted lead continues through its
-- opportunity, so the lead id stays the record). Segments are fixed per record so a record sits
-- in the same segment at every step: the lead's own values first (as known at the top of the
-- funnel), the account's where the lead has none; the owner is the lead's owner, or the
-- opportunity's owner for a record that started as an opportunity.
with

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
    where exclusion_reason is null
),

people as (
    select * from {{ ref('dim_contacts') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

employee_bands as (
    select * from {{ ref('employee_bands') }}
),

-- The person a lead is now: its own lead row, or the contact it was converted into (dim_contacts
-- resolved the country code from the country_codes seed).
lead_people as (
    select
        coalesce(people.lead_id, people.converted_from_lead_id) as lead_id,
        people.country_code,
        people.crm_account_id
    from people
    where people.lead_id is not null or people.converted_from_lead_id is not null
),

lead_records as (
    select
        leads.lead_id as funnel_record_id,
        'lead' as record_type,
        leads.lead_id,
        opportunities.opportunity_id,
        coalesce(opportunities.crm_account_id, lead_people.crm_account_id) as crm_account_id,
        leads.number_of_employees,
        leads.industry,
        lead_people.country_code,
        coalesce(leads.lead_source, opportunities.lead_source) as lead_source,
        leads.owner_id as owner_user_id,
        leads.created_at
    from leads
    left join opportunities
        on leads.lead_id = opportunities.converted_from_lead_id
    left join lead_people
        on leads.lead_id = lead_people.lead_id
),

opportunity_records as (
    select
        opportunities.opportunity_id as funnel_record_id,
        'opportunity' as record_type,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        opportunities.opportunity_id,
        opportunities.crm_account_id,
        cast(null as {{ dbt.type_bigint() }}) as number_of_employees,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_string() }}) as country_code,
        opportunities.lead_source,
        opportunities.owner_user_id,
        opportunities.created_at
    from opportunities
    where opportunities.converted_from_lead_id is null
),

records as (
    select * from lead_records
    union all
    select * from opportunity_records
),

segmented as (
    select
        records.funnel_record_id,
        records.record_type,
        records.lead_id,
        records.opportunity_id,
        records.crm_account_id,
        coalesce(records.number_of_employees, accounts.number_of_employees) as number_of_employees,
        coalesce(records.industry, accounts.industry) as industry,
        coalesce(records.country_code, accounts.billing_country_code) as region,
        records.lead_source,
        records.owner_user_id,
        users.team_name as owner_team,
        records.created_at
    from records
    left join accounts
        on records.crm_account_id = accounts.account_key
    left join users
        on records.owner_user_id = users.user_id
),

final as (
    select
        segmented.funnel_record_id,
        segmented.record_type,
        segmented.lead_id,
        segmented.opportunity_id,
        segmented.crm_account_id,
        segmented.number_of_employees,
        employee_bands.band_name as employee_band,
        segmented.industry,
        segmented.region,
        segmented.lead_source,
        segmented.owner_user_id,
        segmented.owner_team,
        segmented.created_at
    from segmented
    left join employee_bands
        on
            segmented.number_of_employees >= employee_bands.min_employees
            and (
                employee_bands.max_employees is null
                or segmented.number_of_employees <= employee_bands.max_employees
            )
)

select * from final
