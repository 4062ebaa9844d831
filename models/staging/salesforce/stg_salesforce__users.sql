with

source as (
    select
        {{ staged_columns('salesforce', 'user') }}
    from {{ source('salesforce', 'user') }}
),

renamed as (
    select
        id as user_id,
        {{ clean_text('name') }} as user_name,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_email('email') }} as email,
        coalesce(is_active, false) as is_active,
        {{ clean_text('time_zone_sid_key') }} as time_zone,
        manager_id as manager_user_id,
        user_role_id,
        {{ clean_text('user_type') }} as user_type,
        {{ clean_text('department') }} as department,
        {{ clean_text('title') }} as title,
        created_date as created_at,
        _fivetran_synced as synced_at,
        cast(null as {{ dbt.type_string() }}) as exclusion_reason
    from source
)

select * from renamed
