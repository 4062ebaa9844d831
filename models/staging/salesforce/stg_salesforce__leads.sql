with

source as (
    select
        {{ staged_columns('salesforce', 'lead') }}
    from {{ source('salesforce', 'lead') }}
),

renamed as (
    select
        id as lead_id,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('company') }} as company,
        {{ normalize_email('email') }} as email,
        {{ email_domain('email') }} as email_domain,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('title') }} as title,
        {{ clean_text('website') }} as website,
        {{ url_domain('website') }} as website_domain,
        {{ clean_text('status') }} as lead_status,
        {{ clean_text('lead_source') }} as lead_source,
        {{ clean_text('industry') }} as industry,
        number_of_employees,
        {{ clean_text('country') }} as country,
        owner_id,
        coalesce(is_converted, false) as is_converted,
        converted_date,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
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
