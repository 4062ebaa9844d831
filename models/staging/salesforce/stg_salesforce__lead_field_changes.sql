with

source as (
    select
        {{ staged_columns('salesforce', 'lead_history') }}
    from {{ source('salesforce', 'lead_history') }}
),

renamed as (
    select
        id as lead_history_id,
        lead_id,
        lower(trim(field)) as field_name,
        {{ clean_text('old_value') }} as old_value,
        {{ clean_text('new_value') }} as new_value,
        created_by_id as changed_by_user_id,
        created_date as changed_at,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason() }} as exclusion_reason
    from source
)

select * from renamed
