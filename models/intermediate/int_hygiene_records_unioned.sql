-- One row per record the hygiene scorecard judges (accounts, contacts, leads, opportunities,
-- subscriptions, users) with
-- what every rule needs: its stage, whether it is open, its owner, how it was created and when it
-- last changed. Leads are every surviving lead still a lead row in dim_contacts.
with

accounts as (
    select * from {{ ref('dim_accounts') }}
    where crm_account_id is not null
),

people as (
    select * from {{ ref('dim_contacts') }}
),

-- Converted leads live on as contacts in dim_contacts, but their SLA clocks, handoffs and
-- reassignments happened as leads: they are records here too (closed, in their converted
-- status), with no field or duplicate rule of their own (is_rule_checked false).
converted_leads as (
    select leads.*
    from {{ ref('stg_salesforce__leads') }} as leads
    left join {{ ref('dim_contacts') }} as lead_rows
        on
            leads.lead_id = lead_rows.person_id
            and lead_rows.person_type = 'lead'
    where
        leads.exclusion_reason is null
        and lead_rows.person_id is null
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

subscriptions as (
    select * from {{ ref('fct_subscriptions') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

last_activities as (
    select * from {{ ref('int_activities_aggregated') }}
),

records as (
    select
        'account' as object_name,
        accounts.crm_account_id as record_id,
        cast(null as {{ dbt.type_string() }}) as stage_name,
        true as is_open,
        accounts.owner_user_id as owner_id,
        accounts.account_source as lead_source,
        accounts.created_by_user_id,
        accounts.created_at,
        coalesce(accounts.last_modified_at, accounts.created_at) as last_changed_at,
        last_activities.last_activity_at,
        true as is_rule_checked
    from accounts
    left join last_activities
        on
            last_activities.object_name = 'account'
            and accounts.crm_account_id = last_activities.record_id
    union all
    select
        people.person_type as object_name,
        people.person_id as record_id,
        people.lead_status as stage_name,
        coalesce(lead_statuses.is_open, true) as is_open,
        people.owner_id,
        people.lead_source,
        people.created_by_user_id,
        people.created_at,
        coalesce(people.last_modified_at, people.created_at) as last_changed_at,
        last_activities.last_activity_at,
        true as is_rule_checked
    from people
    left join stages as lead_statuses
        on
            people.lead_status = lead_statuses.stage_name
            and lead_statuses.object = 'lead'
    left join last_activities
        on
            people.person_type = last_activities.object_name
            and people.person_id = last_activities.record_id
    union all
    select
        'lead' as object_name,
        converted_leads.lead_id as record_id,
        converted_leads.lead_status as stage_name,
        coalesce(lead_statuses.is_open, false) as is_open,
        converted_leads.owner_id,
        converted_leads.lead_source,
        converted_leads.created_by_user_id,
        converted_leads.created_at,
        coalesce(converted_leads.last_modified_at, converted_leads.created_at) as last_changed_at,
        last_activities.last_activity_at,
        false as is_rule_checked
    from converted_leads
    left join stages as lead_statuses
        on
            converted_leads.lead_status = lead_statuses.stage_name
            and lead_statuses.object = 'lead'
    left join last_activities
        on
            last_activities.object_name = 'lead'
            and converted_leads.lead_id = last_activities.record_id
    union all
    select
        'opportunity' as object_name,
        opportunities.opportunity_id as record_id,
        opportunities.stage_name,
        not opportunities.is_closed as is_open,
        opportunities.owner_user_id as owner_id,
        opportunities.lead_source,
        opportunities.created_by_user_id,
        opportunities.created_at,
        coalesce(opportunities.last_modified_at, opportunities.created_at) as last_changed_at,
        last_activities.last_activity_at,
        true as is_rule_checked
    from opportunities
    left join last_activities
        on
            last_activities.object_name = 'opportunity'
            and opportunities.opportunity_id = last_activities.record_id
    union all
    -- A subscription's data is fixed by the account owner; a user's by their manager.
    select
        'subscription' as object_name,
        subscriptions.subscription_id as record_id,
        cast(null as {{ dbt.type_string() }}) as stage_name,
        subscriptions.counts_toward_mrr as is_open,
        subscription_accounts.owner_user_id as owner_id,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        cast(null as {{ dbt.type_string() }}) as created_by_user_id,
        subscriptions.created_at,
        subscriptions.created_at as last_changed_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_activity_at,
        true as is_rule_checked
    from subscriptions
    left join accounts as subscription_accounts
        on subscriptions.crm_account_id = subscription_accounts.crm_account_id
    union all
    select
        'user' as object_name,
        users.user_id as record_id,
        cast(null as {{ dbt.type_string() }}) as stage_name,
        users.is_active as is_open,
        users.manager_user_id as owner_id,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        cast(null as {{ dbt.type_string() }}) as created_by_user_id,
        users.created_at,
        users.created_at as last_changed_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_activity_at,
        true as is_rule_checked
    from users
),

final as (
    select
        records.object_name || ':' || records.record_id as hygiene_record_id,
        records.object_name,
        records.record_id,
        records.stage_name,
        records.is_open,
        records.owner_id,
        owners.user_id is not null as is_owner_a_user,
        owners.is_active as is_owner_active,
        owners.user_name as owner_name,
        coalesce(owners.team_name, 'unassigned') as owner_team,
        coalesce(records.lead_source, 'unknown') as lead_source,
        case
            when creators.user_id is null then 'unknown'
            when creators.is_person then 'person'
            else 'integration'
        end as created_by_type,
        records.created_at,
        records.last_changed_at,
        records.last_activity_at,
        records.is_rule_checked
    from records
    left join users as owners
        on records.owner_id = owners.user_id
    left join users as creators
        on records.created_by_user_id = creators.user_id
)

select * from final
