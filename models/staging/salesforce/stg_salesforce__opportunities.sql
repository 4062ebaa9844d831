with

source as (
    select
        {{ staged_columns('salesforce', 'opportunity') }}
    from {{ source('salesforce', 'opportunity') }}
),

renamed as (
    select
        id as opportunity_id,
        account_id,
        {{ clean_text('name') }} as opportunity_name,
        {{ clean_text('stage_name') }} as stage_name,
        cast(amount as {{ dbt.type_numeric() }}) as amount,
        -- Salesforce probability is a percentage, 0-100.
        probability,
        close_date,
        {{ clean_text('type') }} as opportunity_type,
        {{ clean_text('lead_source') }} as lead_source,
        {{ clean_text('forecast_category') }} as forecast_category,
        {{ clean_text('next_step') }} as next_step,
        is_closed as is_closed_in_crm,
        is_won as is_won_in_crm,
        owner_id as owner_user_id,
        upper({{ clean_text('currency_iso_code') }}) as currency,
        created_by_id as created_by_user_id,
        created_date as created_at,
        last_modified_date as last_modified_at,
        last_activity_date,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason() }} as exclusion_reason
    from source
)

select * from renamed
