with

source as (
    select
        {{ staged_columns('stripe', 'subscription_item') }}
    from {{ source('stripe', 'subscription_item') }}
),

renamed as (
    select
        id as subscription_item_id,
        subscription_id,
        price_id,
        plan_id,
        coalesce(quantity, 1) as quantity,
        created as created_at,
        _fivetran_synced as synced_at,
        coalesce(_fivetran_deleted, false) as is_deleted,
        {{ exclusion_reason(is_deleted='_fivetran_deleted') }} as exclusion_reason
    from source
)

select * from renamed
