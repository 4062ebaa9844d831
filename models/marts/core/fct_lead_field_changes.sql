-- One row per change of a tracked lead field other than the status (owner, email, company …) from
-- LeadHistory, for surviving leads: the owner history behind the routing rules and the field
-- history behind handoff completeness. Status changes are in fct_lead_status_history.
with

field_changes as (
    select * from {{ ref('stg_salesforce__lead_field_changes') }}
    where exclusion_reason is null
),

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
    where exclusion_reason is null
),

final as (
    select
        field_changes.lead_history_id,
        field_changes.lead_id,
        field_changes.field_name,
        -- API names (LeadSource, Custom__c) and column names (lead_source, custom_c) compare equal
        -- once lowercased without underscores.
        replace(field_changes.field_name, '_', '') as field_key,
        field_changes.old_value,
        field_changes.new_value,
        field_changes.changed_by_user_id,
        field_changes.changed_at
    from field_changes
    inner join leads
        on field_changes.lead_id = leads.lead_id
    where field_changes.field_name not in ('status', 'created')
)

select * from final
