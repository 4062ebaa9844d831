with

source as (
    select
        {{ staged_columns('salesforce', 'user_role') }}
    from {{ source('salesforce', 'user_role') }}
),

renamed as (
    select
        id as user_role_id,
        {{ clean_text('name') }} as role_name,
        {{ clean_text('developer_name') }} as role_developer_name,
        parent_role_id,
        _fivetran_synced as synced_at,
        cast(null as {{ dbt.type_string() }}) as exclusion_reason
    from source
)

select * from renamed
