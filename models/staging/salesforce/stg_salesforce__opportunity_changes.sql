with

source as (
    select
        {{ staged_columns('salesforce', 'opportunity_history') }}
    from {{ source('salesforce', 'opportunity_history') }}
),

renamed as (
    select
        id as opportunity_history_id,
        opportunity_id,
        {{ clean_text('stage_name') }} as stage_name,
        amount,
        close_date,
        probability,
        {{ clean_text('forecast_category') }} as forecast_category,
        created_by_id as changed_by_user_id,
        created_date as changed_at,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason() }} as exclusion_reason
    from source
)

select * from renamed
