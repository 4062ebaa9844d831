with

source as (
    select
        {{ staged_columns('salesforce', 'account') }}
    from {{ source('salesforce', 'account') }}
),

renamed as (
    select
        id as account_id,
        {{ clean_text('name') }} as account_name,
        {{ clean_text('website') }} as website,
        {{ url_domain('website') }} as website_domain,
        {{ clean_text('industry') }} as industry,
        number_of_employees,
        annual_revenue,
        {{ clean_text('billing_country') }} as billing_country,
        {{ clean_text('billing_state') }} as billing_state,
        {{ clean_text('type') }} as account_type,
        {{ clean_text('account_source') }} as account_source,
        owner_id as owner_user_id,
        parent_id as parent_account_id,
        master_record_id,
        created_by_id as created_by_user_id,
        created_date as created_at,
        last_modified_date as last_modified_at,
        last_activity_date,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason(master_record_id='master_record_id') }} as exclusion_reason
    from source
)

select * from renamed
