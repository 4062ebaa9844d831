with

source as (
    select
        {{ staged_columns('salesforce', 'contact') }}
    from {{ source('salesforce', 'contact') }}
),

renamed as (
    select
        id as contact_id,
        account_id,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_email('email') }} as email,
        {{ email_domain('email') }} as email_domain,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('title') }} as title,
        {{ clean_text('mailing_country') }} as mailing_country,
        {{ clean_text('lead_source') }} as lead_source,
        owner_id as owner_user_id,
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
