-- One row per surviving task (call, email, meeting, kickoff …), linked to the person (lead or
-- contact, through merge chains), the opportunity and the account it concerns.
with

tasks as (
    select * from {{ ref('stg_salesforce__tasks') }}
    where exclusion_reason is null
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
        tasks.last_modified_at
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
