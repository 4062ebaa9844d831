with

source as (
    select
        {{ staged_columns('salesforce', 'task') }}
    from {{ source('salesforce', 'task') }}
),

renamed as (
    select
        id as task_id,
        who_id,
        what_id,
        account_id,
        owner_id as owner_user_id,
        {{ clean_text('subject') }} as subject,
        {{ clean_text('type') }} as task_type,
        {{ clean_text('task_subtype') }} as task_subtype,
        {{ clean_text('status') }} as task_status,
        activity_date,
        created_by_id as created_by_user_id,
        created_date as created_at,
        last_modified_date as last_modified_at,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason() }} as exclusion_reason
    from source
)

select * from renamed
