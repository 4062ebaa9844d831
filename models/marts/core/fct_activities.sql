{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='activity_id',
    on_schema_change='fail',
    post_hook="{{ revops_delete_rows_without_parent('activity_id', ref('stg_salesforce__tasks'), 'task_id') }}",
) }}
-- One row per surviving task (call, email, meeting, kickoff …), linked to the person (lead or
-- contact, through merge chains), the opportunity and the account it concerns.
-- Incremental (docs/incremental.md): a run rebuilds the tasks synced after the watermark and the
-- tasks whose lead, contact, account (through its merge chain) or opportunity was synced since.
with
{% if is_incremental() %}
watermark as (
    {{ revops_incremental_since() }}
),

changed_records as (
    select merged_records.record_id
    from {{ ref('int_merged_records_resolved') }} as merged_records
    cross join watermark
    where {{ revops_synced_since('merged_records.chain_synced_at') }}
    union
    select opportunities.opportunity_id as record_id
    from {{ ref('stg_salesforce__opportunities') }} as opportunities
    cross join watermark
    where {{ revops_synced_since('opportunities.synced_at') }}
),

changed_tasks as (
    select all_tasks.task_id
    from {{ ref('stg_salesforce__tasks') }} as all_tasks
    cross join watermark
    where {{ revops_synced_since('all_tasks.synced_at') }}
    union
    select all_tasks.task_id
    from {{ ref('stg_salesforce__tasks') }} as all_tasks
    inner join changed_records
        on all_tasks.who_id = changed_records.record_id
    union
    select all_tasks.task_id
    from {{ ref('stg_salesforce__tasks') }} as all_tasks
    inner join changed_records
        on all_tasks.what_id = changed_records.record_id
    union
    select all_tasks.task_id
    from {{ ref('stg_salesforce__tasks') }} as all_tasks
    inner join changed_records
        on all_tasks.account_id = changed_records.record_id
),
{% endif %}

tasks as (
    select * from {{ ref('stg_salesforce__tasks') }}
    where exclusion_reason is null
    {% if is_incremental() %}
        and task_id in (select task_id from changed_tasks)
    {% endif %}
),

merged_records as (
    select * from {{ ref('int_merged_records_resolved') }}
),

opportunities as (
    select opportunity_id from {{ ref('stg_salesforce__opportunities') }}
    where exclusion_reason is null
),

final as (
    select
        tasks.task_id as activity_id,
        tasks.task_type as activity_type,
        tasks.task_subtype as activity_subtype,
        tasks.subject,
        tasks.task_status as activity_status,
        tasks.who_id as raw_who_id,
        people.object_name as person_type,
        people.surviving_record_id as person_id,
        tasks.who_id is not null and people.surviving_record_id is null as has_orphaned_person,
        opportunities.opportunity_id,
        coalesce(what_accounts.surviving_record_id, task_accounts.surviving_record_id) as crm_account_id,
        tasks.owner_user_id,
        tasks.created_by_user_id,
        -- A task's creation is the moment the touch was logged; activity_date is a day only.
        tasks.created_at as occurred_at,
        tasks.activity_date,
        tasks.last_modified_at,
        tasks.synced_at as source_synced_at
    from tasks
    left join merged_records as people
        on
            tasks.who_id = people.record_id
            and people.object_name in ('lead', 'contact')
    left join opportunities
        on tasks.what_id = opportunities.opportunity_id
    left join merged_records as what_accounts
        on
            tasks.what_id = what_accounts.record_id
            and what_accounts.object_name = 'account'
    left join merged_records as task_accounts
        on
            tasks.account_id = task_accounts.record_id
            and task_accounts.object_name = 'account'
)

select * from final
