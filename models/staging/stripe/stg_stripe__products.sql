with

source as (
    select
        {{ staged_columns('stripe', 'product') }}
    from {{ source('stripe', 'product') }}
),

renamed as (
    select
        id as product_id,
        {{ clean_text('name') }} as product_name,
        coalesce(active, true) as is_active,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason() }} as exclusion_reason
    from source
)

select * from renamed
